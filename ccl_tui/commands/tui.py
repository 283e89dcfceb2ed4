"""Launch the terminal UI: triage over your sessions (bare ``ccl-tui``) or the guided demo."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ccl_tui.tui.hub import Source


def _require_tty() -> bool:
    # An explicit Textual driver (textual-serve's web driver) runs the app over pipes, not a terminal.
    if (sys.stdout.isatty() and sys.stdin.isatty()) or os.environ.get("TEXTUAL_DRIVER"):
        return True
    print(
        "ccl-tui needs an interactive terminal. For headless use see: ccl-tui --help "
        "(ingest, sessions, report, signals, task, analyze).",
        file=sys.stderr,
    )
    return False


def check_database(source: Source) -> None:
    """Open the app's database once before the app starts: one that cannot be used (damaged, another
    application's, a newer schema, a folder...) raises ``StoreError``, which the CLI prints as one line instead
    of launching. A read-only database passes: the app shows what it holds."""
    import asyncio

    from ccl_tui.store.db import Store, check_path

    if source.fresh_db:  # the guided demo deletes and rebuilds its own database: only the path must do
        check_path(source.db, header=False)
        return

    async def probe() -> None:
        await (await Store.open(source.db)).close()

    asyncio.run(probe())


def cmd_tui(args: argparse.Namespace) -> int:
    if not _require_tty():
        return 2
    from ccl_tui.tui.app import make_app
    from ccl_tui.tui.launch import choose_source

    source = choose_source(args.sessions, args.db)
    check_database(source)
    make_app(theme=args.theme, source=source).run()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    if not _require_tty():
        return 2
    from ccl_tui.tui.app import make_app
    from ccl_tui.tui.launch import choose_source

    source = choose_source(getattr(args, "sessions", None), args.db, demo=True)
    check_database(source)
    make_app(demo=True, auto=args.auto, theme=args.theme, source=source).run()
    return 0


def serve_command(args: argparse.Namespace) -> str:
    """The shell command textual-serve runs for each browser tab (every part quoted)."""
    import shlex

    parts = [sys.executable, "-m", "ccl_tui.cli"]
    if args.db:
        parts += ["--db", args.db]
    if args.theme:
        parts += ["--theme", args.theme]
    for path in getattr(args, "sessions", None) or []:
        parts += ["--sessions", str(Path(path).expanduser().resolve())]  # the served process may run elsewhere
    if args.demo:
        parts.append("demo")
    return shlex.join(parts)


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from textual_serve.server import Server
    except ImportError:
        print("ccl-tui serve needs textual-serve: pip install 'ccl-tui[serve]'", file=sys.stderr)
        return 2
    command = serve_command(args)
    print(f"serving `{command}` on http://{args.host}:{args.port} (one process per browser tab; Ctrl+C stops)")
    Server(command, host=args.host, port=args.port, title="ccl-tui").serve()
    return 0
