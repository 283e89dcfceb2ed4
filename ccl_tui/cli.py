"""The ``ccl-tui`` entry point: argument parsing and dispatch only. Nothing heavy is imported up front."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ccl_tui import __version__
from ccl_tui.commands.registry import register_all


def build_parser() -> argparse.ArgumentParser:
    # --db is accepted before or after the command; SUPPRESS keeps a subcommand from resetting it to None.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db", metavar="PATH", default=argparse.SUPPRESS, help="SQLite database (default: the user data dir)"
    )

    p = argparse.ArgumentParser(
        prog="ccl-tui",
        description="Codex Closed Loop: Codex session logs -> friction signals -> ranked issues -> Harbor tasks.",
    )
    p.add_argument("--db", metavar="PATH", default=None, help="SQLite database (default: the user data dir)")
    p.add_argument("--version", action="version", version=f"ccl-tui {__version__}")
    p.add_argument(
        "--sessions",
        metavar="PATH",
        action="append",
        help="rollout files or folders for the TUI (default: $CODEX_HOME, else the demo corpus)",
    )
    p.add_argument("--theme", help="Textual theme, e.g. textual-light or ccl-high-contrast")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    register_all(sub, common)
    return p


#: Commands that write to the database: a read-only one is refused before they start (reads open it read-only).
WRITE_COMMANDS = frozenset({"ingest", "analyze", "fix", "results import", "results remove"})


def _command(args: argparse.Namespace) -> str:
    return " ".join(str(p) for p in (args.command, getattr(args, "results_command", None)) if p)


def _database_error(exc: BaseException) -> str | None:
    """One line for an error about the database (None: not one; it keeps its traceback)."""
    db = sys.modules.get("ccl_tui.store.db")
    sqlite3 = sys.modules.get("sqlite3")
    if db is not None and isinstance(exc, db.StoreError):
        text = str(exc)
    elif sqlite3 is not None and isinstance(exc, sqlite3.Error):
        text = f"database error: {exc}"
    else:
        return None
    return "ccl-tui: " + " ".join(text.splitlines())


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if not getattr(args, "func", None):
            from ccl_tui.commands.tui import cmd_tui

            return cmd_tui(args)
        command = _command(args)
        if command in WRITE_COMMANDS:
            from ccl_tui.commands.common import db_path
            from ccl_tui.store.db import require_writable

            require_writable(db_path(args.db), f"ccl-tui {command}")
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        message = _database_error(exc)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
