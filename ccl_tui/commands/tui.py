"""Launch the terminal UI: triage over your sessions (bare ``ccl-tui``) or the guided demo."""

from __future__ import annotations

import argparse
import sys


def _require_tty() -> bool:
    if sys.stdout.isatty() and sys.stdin.isatty():
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

    make_app(None, args.db, demo=True, auto=args.auto, theme=args.theme).run()
    return 0
