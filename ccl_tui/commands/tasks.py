"""``ccl-tui task`` and ``ccl-tui tasks export|check``: issues as Harbor evaluation tasks.

``register`` only builds the argument parsers; the command functions import what they need when they run, so
``ccl-tui --help`` stays fast. Every string printed may come from a transcript: plain ``Text``, never markup.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ccl_tui.locations import tasks_dir

if TYPE_CHECKING:
    from ccl_tui.store.db import Store
    from ccl_tui.tasks.export import ExportReport
    from ccl_tui.tasks.model import TaskResult


def _out(arg: str | None) -> Path:
    return Path(arg).expanduser() if arg else tasks_dir()


def _signal_arg(value: str) -> tuple[str, int]:
    sid, sep, seq = value.rpartition(":")
    if not sep or not sid or not seq.strip().lstrip("#").isdigit():
        raise argparse.ArgumentTypeError("expected SESSION_ID:SEQ, e.g. 019e1625:240")
    return sid.strip(), int(seq.strip().lstrip("#"))


def _print_result(r: TaskResult) -> None:
    from rich.text import Text

    from ccl_tui.commands.common import console

    con = console()
    con.print(Text(f"Wrote {r.path}", style="bold"))
    con.print(Text(f"  task: {r.name} ({r.flavour})"))
    valid = {True: "valid (Harbor loader and lint)", False: "INVALID", None: "not checked (harbor not installed)"}
    con.print(Text(f"  harbor: {valid[r.valid]}"))
    for p in r.problems:
        con.print(Text(f"    - {p}"))
    con.print(Text(f"  environment: {r.environment_mode}: {r.reason}"))
    if r.needs_repository:
        con.print(Text("  NEEDS THE REPOSITORY: the task cannot be built until it is provided (see environment/)"))
    con.print(Text(f"  verifier: {r.verifier_command}"))
    con.print(Text(f"    why: {r.verifier_reason}"))
    sol = "solution/solve.sh" if r.has_solution else "no solution"
    con.print(Text(f"  {sol}: {r.solution_reason}"))


def cmd_task(args: argparse.Namespace) -> int:
    from rich.text import Text

    from ccl_tui.commands.common import console, print_json, run_with_store
    from ccl_tui.pipeline import refresh
    from ccl_tui.tasks.api import write_task_for_issue, write_task_for_signal
    from ccl_tui.tasks.model import TaskError

    if not args.issue_id and not args.signal:
        console(stderr=True).print(Text("Give an ISSUE_ID (see `ccl-tui report`) or --signal SESSION_ID:SEQ."))
        return 2
    out = _out(args.out)

    async def run(store: Store) -> TaskResult:
        await refresh(store)
        if args.signal:
            sid, seq = args.signal
            return await write_task_for_signal(store, sid, seq, out, force=args.force)
        return await write_task_for_issue(store, args.issue_id, out, force=args.force)

    try:
        result = run_with_store(args.db, run)
    except TaskError as exc:
        if args.json:
            print_json({"error": str(exc)})
        else:
            console(stderr=True).print(Text(f"Cannot write the task: {exc}"))
        return 1
    if args.json:
        print_json(result.to_json())
    else:
        _print_result(result)
    return 0 if result.valid is not False else 1


def cmd_tasks_export(args: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text

    from ccl_tui.commands.common import console, print_json, run_with_store
    from ccl_tui.pipeline import refresh
    from ccl_tui.tasks.export import export_tasks

    out = _out(args.out)

    async def run(store: Store) -> ExportReport:
        await refresh(store)
        return await export_tasks(store, out, args.top, include_delight=args.include_delight, force=args.force)

    report = run_with_store(args.db, run)
    if args.json:
        print_json(report.to_json())
    else:
        con = console()
        t = Table(box=None, header_style="bold")
        t.add_column("task", overflow="fold")
        for col in ("flavour", "environment", "solution", "harbor"):
            t.add_column(col)
        for r in report.tasks:
            harbor = {True: "valid", False: "INVALID", None: "unchecked"}[r.valid]
            t.add_row(Text(r.name), Text(r.flavour), Text(r.environment_mode), Text("yes" if r.has_solution else "no"),
                      Text(harbor))
        con.print(t)
        con.print(Text(f"{len(report.tasks)} task(s) in {report.out_dir}"))
        for s in report.skipped:
            what = s.get("issue_id") or f"{s.get('session_id', '')[:13]}:{s.get('seq')}"
            con.print(Text(f"  skipped {what}: {s['reason']}"))
        con.print(Text(f"Run them: harbor run -p {report.out_dir} -a oracle"))
    return 0 if all(r.valid is not False for r in report.tasks) else 1


def cmd_tasks_check(args: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text

    from ccl_tui.commands.common import console, print_json
    from ccl_tui.tasks.check import check_path

    path = Path(args.dir).expanduser()
    if not path.is_dir():
        console(stderr=True).print(Text(f"No such folder: {path}"))
        return 2
    if args.execute and not args.json:
        console(stderr=True).print(Text("--execute runs each task's recorded check and solution on this machine"
                                        " (in a temporary copy of the repository snapshot, without Docker)."))
    reports = check_path(path, run=args.execute)
    if args.json:
        print_json({"tasks": [r.to_json() for r in reports],
                    "valid": sum(1 for r in reports if r.ok), "total": len(reports),
                    "reproducible": sum(1 for r in reports if r.reproducible)})
    else:
        con = console()
        t = Table(box=None, header_style="bold")
        t.add_column("task", overflow="fold")
        for col in ("harbor", "scripts", "environment", "before", "after", "reproducible"):
            t.add_column(col)
        for r in reports:
            harbor = {True: "valid", False: "INVALID", None: "unchecked"}[r.valid]
            scripts = f"{r.scripts} ok" if not r.script_errors else f"{len(r.script_errors)} bad"
            t.add_row(Text(r.name), Text(harbor), Text(scripts), Text(r.environment_mode),
                      Text(_reward(r.reward_before)), Text(_reward(r.reward_after)),
                      Text({True: "yes", False: "NO", None: "-"}[r.reproducible]))
        con.print(t)
        for r in reports:
            for p in r.problems + r.script_errors:
                con.print(Text(f"  {r.name}: {p}"))
            if r.note:
                con.print(Text(f"  {r.name}: {r.note}"))
        proven = sum(1 for r in reports if r.reproducible)
        con.print(Text(f"{sum(1 for r in reports if r.ok)} of {len(reports)} task(s) valid"
                       + (f"; {proven} proven reproducible" if args.execute else "")))
    if not reports:
        return 2
    failed = any(not r.ok for r in reports) or (args.execute and any(r.reproducible is False for r in reports))
    return 1 if failed else 0


def _reward(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    """Add ``task`` and ``tasks export|check`` to the ccl-tui command parser."""
    s = sub.add_parser("task", parents=[common], help="write a Harbor eval task for an issue (or one signal)")
    s.add_argument("issue_id", nargs="?", metavar="ISSUE_ID", help="issue id (I-...), unique prefix, or rank")
    s.add_argument("--out", metavar="DIR", help="parent folder for the task (default: the user data dir)")
    s.add_argument("--force", action="store_true", help="replace an existing task folder")
    s.add_argument("--signal", type=_signal_arg, metavar="SESSION_ID:SEQ",
                   help="use this signal instead of the issue's most representative one")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_task)

    t = sub.add_parser("tasks", parents=[common], help="export or check Harbor task folders")
    tsub = t.add_subparsers(dest="tasks_command", metavar="COMMAND", required=True)
    e = tsub.add_parser("export", parents=[common], help="write the top issues as a Harbor dataset folder")
    e.add_argument("--top", type=int, default=10, metavar="N", help="how many issue tasks (default 10)")
    e.add_argument("--out", metavar="DIR", help="dataset folder (default: the user data dir)")
    e.add_argument("--include-delight", action="store_true",
                   help="also export up to N keep-green tasks from delight signals")
    e.add_argument("--force", action="store_true", help="replace existing task folders")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_tasks_export)
    c = tsub.add_parser("check", parents=[common], help="validate task folders with Harbor's loader")
    c.add_argument("dir", metavar="DIR", help="a task folder or a dataset folder of tasks")
    c.add_argument("--execute", action="store_true",
                   help="run each verifier before and after its solution in a temp copy of the snapshot (no Docker)")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_tasks_check)
