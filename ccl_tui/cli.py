"""The ``ccl-tui`` entry point: argument parsing and dispatch only. Nothing heavy is imported up front."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ccl_tui import __version__
from ccl_tui.commands import lazy as _lazy


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

    s = sub.add_parser("demo", parents=[common], help="the guided 7-stage presentation on the demo corpus")
    s.add_argument("--auto", type=float, metavar="SECONDS", help="advance by itself every SECONDS")
    s.add_argument(
        "--sessions",
        metavar="PATH",
        action="append",
        default=argparse.SUPPRESS,
        help="present on these rollout files or folders instead of the bundled demo corpus",
    )
    s.add_argument("--theme", help="Textual theme (ctrl+t cycles dark/light/high contrast in the app)")
    s.set_defaults(func=_lazy("ccl_tui.commands.tui", "cmd_demo"))

    s = sub.add_parser("serve", parents=[common], help="present the TUI in a browser (textual-serve, [serve] extra)")
    s.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: local only)")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--demo", action="store_true", help="serve the guided demo instead of triage")
    s.add_argument(
        "--sessions",
        metavar="PATH",
        action="append",
        default=argparse.SUPPRESS,
        help="rollout files or folders (triage, or the demo with --demo)",
    )
    s.add_argument("--theme")
    s.set_defaults(func=_lazy("ccl_tui.commands.tui", "cmd_serve"))

    s = sub.add_parser("ingest", parents=[common], help="read Codex rollout files into the store")
    s.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: $CODEX_HOME, ~/.codex)")
    s.add_argument("--json", action="store_true", help="print the summary as JSON (no progress bar)")
    s.add_argument("--workers", type=int, default=None, help="parser processes (default: CPU count)")
    s.add_argument("--no-detect", action="store_true", help="skip signal detection after ingest")
    s.set_defaults(func=_lazy("ccl_tui.commands.ingest", "cmd_ingest"))

    s = sub.add_parser("sessions", parents=[common], help="list ingested sessions")
    s.add_argument("--json", action="store_true")
    s.add_argument("--origin", help="interactive | exec | ide | subagent | review")
    s.add_argument("--repo")
    s.add_argument("--since", metavar="DATE", help="only sessions started on/after DATE (YYYY-MM-DD)")
    s.add_argument("--limit", type=int)
    s.set_defaults(func=_lazy("ccl_tui.commands.sessions", "cmd_sessions"))

    s = sub.add_parser("report", parents=[common], help="issues ranked by impact, with the score breakdown")
    out = s.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--markdown", action="store_true")
    s.add_argument("--top", type=int, default=20, help="how many issues (0 = all; default 20)")
    s.add_argument("--explain", type=int, default=3, help="explain the score of the first N issues (default 3)")
    _scope_args(s)
    s.set_defaults(func=_lazy("ccl_tui.commands.report", "cmd_report"))

    s = sub.add_parser("signals", parents=[common], help="friction and delight signals with their evidence")
    s.add_argument("session_id", nargs="?", metavar="SESSION_ID", help="only this session (id or prefix)")
    s.add_argument("--kind")
    s.add_argument("--polarity", choices=["friction", "delight", "note"])
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_lazy("ccl_tui.commands.report", "cmd_signals"))

    from ccl_tui.commands.analyze import register as register_analyze
    from ccl_tui.commands.results import register as register_results
    from ccl_tui.commands.tasks import register as register_tasks

    register_tasks(sub, common)
    register_results(sub, common)
    register_analyze(sub, common)

    s = sub.add_parser("show", parents=[common], help="print a session transcript as plain text")
    s.add_argument("session_id", metavar="SESSION_ID", help="full id or unique prefix")
    s.add_argument("--full", action="store_true", help="include token counts, context and full outputs")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_lazy("ccl_tui.commands.sessions", "cmd_show"))
    return p


def _scope_args(s: argparse.ArgumentParser) -> None:
    s.add_argument("--kind", help="only issues made of this signal kind (e.g. command_failure)")
    s.add_argument("--repo", help="only sessions in this repository")
    s.add_argument(
        "--origin",
        help="interactive, ide, exec, subagent, review, a comma list, or 'all'"
        " (default: interactive,ide,other: automated runs are not mixed into user friction)",
    )
    s.add_argument("--since", metavar="DATE", help="sessions started on/after DATE (YYYY-MM-DD)")
    s.add_argument("--until", metavar="DATE", help="sessions started before DATE")


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
