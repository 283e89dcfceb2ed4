"""Every ``ccl-tui`` subcommand's arguments, registered in one place (the CLI's parser is built from here).

Standard library only at import time, like the modules it calls (``analyze``, ``results``, ``tasks`` keep their
heavy imports inside their handlers): building the parser must not load rich, SQLite or the detectors
(``tests/test_import_hygiene.py``). Each handler is imported when its command runs (:func:`lazy`).
"""

from __future__ import annotations

import argparse
from typing import Any

from ccl_tui.commands import lazy
from ccl_tui.commands.analyze import register as register_analyze
from ccl_tui.commands.results import register as register_results
from ccl_tui.commands.tasks import register as register_tasks
from ccl_tui.scope import AGENTS


def register_all(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add every subcommand to ``sub`` (an argparse subparsers object); ``common`` carries ``--db``."""
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
    s.set_defaults(func=lazy("ccl_tui.commands.tui", "cmd_demo"))

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
    s.set_defaults(func=lazy("ccl_tui.commands.tui", "cmd_serve"))

    s = sub.add_parser("ingest", parents=[common], help="read Codex and Claude Code session files into the store")
    s.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or folders (default: $CODEX_HOME or ~/.codex, and $CLAUDE_CONFIG_DIR or ~/.claude)",
    )
    s.add_argument("--json", action="store_true", help="print the summary as JSON (no progress bar)")
    s.add_argument("--workers", type=int, default=None, help="parser processes (default: CPU count)")
    s.add_argument("--no-detect", action="store_true", help="skip signal detection after ingest")
    s.set_defaults(func=lazy("ccl_tui.commands.ingest", "cmd_ingest"))

    s = sub.add_parser("sessions", parents=[common], help="list ingested sessions")
    s.add_argument("--json", action="store_true")
    s.add_argument("--origin", help="interactive | exec | ide | subagent | review")
    s.add_argument("--agent", choices=AGENTS, help="only sessions written by this agent")
    s.add_argument("--repo")
    s.add_argument("--since", metavar="DATE", help="only sessions started on/after DATE (YYYY-MM-DD)")
    s.add_argument("--limit", type=int)
    s.set_defaults(func=lazy("ccl_tui.commands.sessions", "cmd_sessions"))

    s = sub.add_parser("report", parents=[common], help="issues ranked by impact, with the score breakdown")
    out = s.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--markdown", action="store_true")
    s.add_argument("--top", type=int, default=20, help="how many issues (0 = all; default 20)")
    s.add_argument("--explain", type=int, default=3, help="explain the score of the first N issues (default 3)")
    scope_args(s)
    s.set_defaults(func=lazy("ccl_tui.commands.report", "cmd_report"))

    s = sub.add_parser("signals", parents=[common], help="friction and delight signals with their evidence")
    s.add_argument("session_id", nargs="?", metavar="SESSION_ID", help="only this session (id or prefix)")
    s.add_argument("--kind")
    s.add_argument("--polarity", choices=["friction", "delight", "note"])
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=lazy("ccl_tui.commands.report", "cmd_signals"))

    register_tasks(sub, common)
    register_results(sub, common)
    register_analyze(sub, common)

    s = sub.add_parser("show", parents=[common], help="print a session transcript as plain text")
    s.add_argument("session_id", metavar="SESSION_ID", help="full id or unique prefix")
    s.add_argument("--full", action="store_true", help="include token counts, context and full outputs")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=lazy("ccl_tui.commands.sessions", "cmd_show"))


def scope_args(s: argparse.ArgumentParser) -> None:
    s.add_argument("--kind", help="only issues made of this signal kind (e.g. command_failure)")
    s.add_argument("--repo", help="only sessions in this repository")
    s.add_argument(
        "--origin",
        help="interactive, ide, exec, subagent, review, a comma list, or 'all'"
        " (default: interactive,ide,other: automated runs are not mixed into user friction)",
    )
    s.add_argument("--since", metavar="DATE", help="sessions started on/after DATE (YYYY-MM-DD)")
    s.add_argument("--until", metavar="DATE", help="sessions started before DATE")
    s.add_argument("--agent", choices=AGENTS, help="only sessions written by this agent (default: both)")
