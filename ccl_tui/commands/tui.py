"""Launch the terminal UI: triage over your sessions (bare ``ccl-tui``) or the guided demo."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _require_tty() -> bool:
    # An explicit Textual driver (textual-serve's web driver) runs the app over pipes, not a terminal.
    if (sys.stdout.isatty() and sys.stdin.isatty()) or os.environ.get("TEXTUAL_DRIVER"):
        return True
    print("ccl-tui needs an interactive terminal. For headless use see: ccl-tui --help "
          "(ingest, sessions, report, signals, task, analyze).", file=sys.stderr)
    return False


def cmd_tui(args: argparse.Namespace) -> int:
    if not _require_tty():
        return 2
    from ccl_tui.tui.app import make_app

    make_app(args.sessions, args.db, theme=args.theme).run()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    if not _require_tty():
        return 2
    from ccl_tui.tui.app import make_app

    make_app(getattr(args, "sessions", None), args.db, demo=True, auto=args.auto, theme=args.theme).run()
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
