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
    from ccl_tui.tasks.check import CheckReport
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
    if r.contract is not None:
        con.print(Text(f"  class: {r.contract.label()}: {r.contract.reason}"))
        if r.contract.cls == "unproven":
            con.print(Text("  UNPROVEN: not a fix task until `ccl-tui tasks check --execute` proves it"))
    if r.network_mode != "public":
        con.print(Text(f"  network: {r.network_mode} (the session's failure shows no network access)"))
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
    from ccl_tui.tasks.model import TaskError, TaskRefused

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
    except TaskRefused as exc:
        if args.json:
            print_json({"error": str(exc), "class": "refused", "reason": exc.reason})
        else:
            console(stderr=True).print(Text(f"Refused, no task written: {exc.reason}"))
        return 1
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


_CLASS_ORDER = ("proven-fix", "keep-green", "unproven", "refused")


def _class_label(cls: str | None, evidence: str | None) -> str:
    if cls in ("proven-fix", "keep-green") and evidence and evidence != "none":
        return f"{cls} ({evidence})"
    return cls or "-"


def cmd_tasks_export(args: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text

    from ccl_tui.commands.common import console, print_json, run_with_store
    from ccl_tui.pipeline import refresh
    from ccl_tui.tasks.export import export_tasks

    out = _out(args.out)

    async def run(store: Store) -> ExportReport:
        await refresh(store)
        return await export_tasks(
            store,
            out,
            args.top,
            include_delight=args.include_delight,
            include_keep_green=args.include_keep_green,
            include_unproven=args.include_unproven,
            force=args.force,
        )

    report = run_with_store(args.db, run)
    if args.json:
        print_json(report.to_json())
    else:
        con = console()
        t = Table(box=None, header_style="bold")
        t.add_column("task", overflow="fold")
        for col in ("class", "environment", "network", "solution", "harbor"):
            t.add_column(col)
        for r in report.tasks:
            harbor = {True: "valid", False: "INVALID", None: "unchecked"}[r.valid]
            c = r.contract
            t.add_row(
                Text(r.name),
                Text(_class_label(c.cls if c else r.flavour, c.evidence if c else None)),
                Text(r.environment_mode),
                Text(r.network_mode),
                Text("yes" if r.has_solution else "no"),
                Text(harbor),
            )
        con.print(t)
        counts = report.counts()
        con.print(
            Text(
                f"{len(report.tasks)} task(s) in {report.out_dir}: {counts['proven-fix']} proven fix,"
                f" {counts['keep-green']} keep-green, {counts['unproven']} unproven;"
                f" {counts['refused']} refused"
            )
        )
        for r in report.tasks:
            if r.contract is not None and r.contract.cls != "proven-fix":
                con.print(Text(f"  {r.name}: {r.contract.label()}: {r.contract.reason}"))
        for e in report.refused:
            what = e.get("issue_id") or f"{str(e.get('session_id', ''))[:13]}:{e.get('seq')}"
            con.print(Text(f"  refused {what}: {e['reason']}"))
        for e in report.skipped:
            what = e.get("issue_id") or f"{str(e.get('session_id', ''))[:13]}:{e.get('seq')}"
            label = f" ({e['class']})" if e.get("class") else ""
            con.print(Text(f"  not written {what}{label}: {e['reason']}"))
        con.print(Text(f"Run them: harbor run -p {report.out_dir} -a oracle"))
    return 0 if all(r.valid is not False for r in report.tasks) else 1


def _check_json(reports: list[CheckReport], refused: list[dict[str, object]], executed: bool) -> dict[str, object]:
    counts = {c: sum(1 for r in reports if r.klass == c) for c in _CLASS_ORDER}
    counts["refused"] += len(refused)
    return {
        "tasks": [r.to_json() for r in reports],
        "valid": sum(1 for r in reports if r.valid_ok),
        "ok": sum(1 for r in reports if r.ok),
        "total": len(reports),
        "executed": sum(1 for r in reports if r.executed) if executed else 0,
        "reproducible": sum(1 for r in reports if r.reproducible),
        "counts": counts,
        "proven_fix": counts["proven-fix"],
        "keep_green": counts["keep-green"],
        "unproven": counts["unproven"],
        "refused": counts["refused"],
        "refused_at_export": refused,
    }


def _record_checks(db: str | None, reports: list[CheckReport]) -> str:
    """Save the executed outcomes in the store; returns a note on where (or why not)."""
    from ccl_tui.commands.common import db_path, run_with_store
    from ccl_tui.store.db import StoreError
    from ccl_tui.store.task_checks import save_task_checks

    path = db_path(db)
    if not path.exists():
        return f"not recorded in a store (no database at {path})"
    rows = [
        {
            "checked_at": r.checked_at,
            "task_name": r.name,
            "task_path": r.path,
            "issue_id": r.issue_id,
            "session_id": r.session_id,
            "signal_seq": r.signal_seq,
            "class": r.klass,
            "evidence": r.evidence,
            "planned_class": r.planned_class,
            "reason": r.reason,
            "reward_before": r.reward_before,
            "reward_after": r.reward_after,
            "reproducible": r.reproducible,
            "detail": {
                "install": r.install,
                "network_mode": r.network_mode,
                "network_isolated": r.network_isolated,
                "notes": r.contract_notes,
                "note": r.note,
            },
        }
        for r in reports
        if r.executed
    ]
    if not rows:
        return ""

    async def save(store: Store) -> int:
        if store.readonly:
            return -1
        return await save_task_checks(store.db, rows)

    try:
        saved = run_with_store(db, save)
    except StoreError as exc:
        return f"not recorded in the store: {exc}"
    return f"recorded {saved} outcome(s) in {path}" if saved >= 0 else f"not recorded: {path} is read-only"


def cmd_tasks_check(args: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text

    from ccl_tui.commands.common import console, print_json
    from ccl_tui.tasks.check import RunOptions, check_path, dataset_refused

    path = Path(args.dir).expanduser()
    if not path.is_dir():
        console(stderr=True).print(Text(f"No such folder: {path}"))
        return 2
    if args.execute and not args.json:
        console(stderr=True).print(
            Text(
                "--execute runs each task's recorded check and solution on this machine (in a temporary copy of the"
                " repository, without Docker), after installing locked dependencies"
                + (" and cloning tasks without a snapshot" if args.clone else "")
                + "."
            )
        )
    opts = RunOptions(clone=args.clone, install=not args.no_install, install_timeout=args.install_timeout)
    reports = check_path(path, run=args.execute, opts=opts)
    refused = dataset_refused(path)
    stored = _record_checks(args.db, reports) if args.execute else ""
    if args.json:
        doc = _check_json(reports, refused, args.execute)
        if stored:
            doc["store"] = stored
        print_json(doc)
    else:
        con = console()
        t = Table(box=None, header_style="bold")
        t.add_column("task", overflow="fold")
        for col in ("class", "harbor", "scripts", "environment", "before", "after", "reproducible"):
            t.add_column(col)
        for r in reports:
            harbor = {True: "valid", False: "INVALID", None: "unchecked"}[r.valid]
            scripts = f"{r.scripts} ok" if not r.script_errors else f"{len(r.script_errors)} bad"
            t.add_row(
                Text(r.name),
                Text(_class_label(r.klass, r.evidence)),
                Text(harbor),
                Text(scripts),
                Text(r.environment_mode),
                Text(_reward(r.reward_before)),
                Text(_reward(r.reward_after)),
                Text({True: "yes", False: "NO", None: "-"}[r.reproducible]),
            )
        con.print(t)
        for r in reports:
            for p in r.problems + r.script_errors:
                con.print(Text(f"  {r.name}: {p}"))
            if r.klass != "proven-fix" or r.evidence == "executed":
                con.print(Text(f"  {r.name}: {_class_label(r.klass, r.evidence)}: {r.reason}"))
            for n in r.contract_notes:
                con.print(Text(f"  {r.name}: {n}"))
            for step in r.install:
                if step["status"] != "ok":
                    con.print(Text(f"  {r.name}: install {step['command']}: {step['status']} {step['detail']}"))
            if r.note:
                con.print(Text(f"  {r.name}: {r.note}"))
        for e in refused:
            what = e.get("issue_id") or f"{str(e.get('session_id', ''))[:13]}:{e.get('seq')}"
            con.print(Text(f"  refused at export {what}: {e.get('reason', '')}"))
        counts = _check_json(reports, refused, args.execute)["counts"]
        assert isinstance(counts, dict)
        con.print(
            Text(
                f"{sum(1 for r in reports if r.valid_ok)} of {len(reports)} task(s) valid;"
                f" {counts['proven-fix']} proven fix, {counts['keep-green']} keep-green,"
                f" {counts['unproven']} unproven (never ok), {counts['refused']} refused"
                + (f"; {sum(1 for r in reports if r.reproducible)} reproduced by this run" if args.execute else "")
            )
        )
        if stored:
            con.print(Text(stored))
    if not reports:
        return 2
    failed = any(not r.ok for r in reports)
    return 1 if failed else 0


def _reward(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add ``task`` and ``tasks export|check`` to the ccl-tui command parser."""
    s = sub.add_parser("task", parents=[common], help="write a Harbor eval task for an issue (or one signal)")
    s.add_argument("issue_id", nargs="?", metavar="ISSUE_ID", help="issue id (I-...), unique prefix, or rank")
    s.add_argument("--out", metavar="DIR", help="parent folder for the task (default: the user data dir)")
    s.add_argument("--force", action="store_true", help="replace an existing task folder")
    s.add_argument(
        "--signal",
        type=_signal_arg,
        metavar="SESSION_ID:SEQ",
        help="use this signal instead of the issue's most representative one",
    )
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_task)

    t = sub.add_parser("tasks", parents=[common], help="export or check Harbor task folders")
    tsub = t.add_subparsers(dest="tasks_command", metavar="COMMAND", required=True)
    e = tsub.add_parser("export", parents=[common], help="write the top issues as a Harbor dataset folder")
    e.add_argument("--top", type=int, default=10, metavar="N", help="how many proven fix tasks (default 10)")
    e.add_argument("--out", metavar="DIR", help="dataset folder (default: the user data dir)")
    e.add_argument(
        "--include-keep-green",
        action="store_true",
        help="also write keep-green (regression) tasks: checks that already pass at the start, from the"
        " issues and up to N delight signals",
    )
    e.add_argument("--include-delight", action="store_true", help="same as --include-keep-green")
    e.add_argument(
        "--include-unproven",
        action="store_true",
        help="also write tasks whose check was never seen failing at the start (prove them with"
        " `tasks check --execute`)",
    )
    e.add_argument("--force", action="store_true", help="replace existing task folders")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_tasks_export)
    c = tsub.add_parser("check", parents=[common], help="validate task folders with Harbor's loader")
    c.add_argument("dir", metavar="DIR", help="a task folder or a dataset folder of tasks")
    c.add_argument(
        "--execute",
        action="store_true",
        help="run each verifier before and after its solution in a temp copy of the start state (no Docker);"
        " proves or demotes each task and records the outcome (ccl-tui-check.json, and the store)",
    )
    c.add_argument(
        "--clone",
        action="store_true",
        help="with --execute: clone tasks without a local snapshot at their commit (needs network)",
    )
    c.add_argument(
        "--no-install",
        action="store_true",
        help="with --execute: do not install locked dependencies (npm ci, uv sync...) first",
    )
    c.add_argument(
        "--install-timeout",
        type=float,
        default=600.0,
        metavar="SEC",
        help="with --execute: time limit of each dependency install step (default 600)",
    )
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_tasks_check)
