"""``ccl-tui results import|list|remove``, ``ccl-tui improvement`` and ``ccl-tui fix``: closing the loop.

Harbor runs are imported per job folder and matched to issues; ``fix`` records the day a fix went in;
``improvement`` reports, per issue, the pass rate in each run and the recurrence before/after the fix, with
n and 95% intervals. Every string printed may come from a transcript or a result file: plain ``Text`` only.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ccl_tui.text.numbers import pct

if TYPE_CHECKING:
    from rich.console import Console

    from ccl_tui.model.results import Change
    from ccl_tui.results.api import ImprovementReport
    from ccl_tui.store.db import Store


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from ccl_tui.commands import lazy

    res = sub.add_parser("results", parents=[common], help="Harbor run results: import job folders, list, remove")
    rsub = res.add_subparsers(dest="results_command", metavar="ACTION", required=True)
    s = rsub.add_parser("import", parents=[common], help="import a `harbor run` job folder (or a jobs/ folder)")
    s.add_argument("job_dir", metavar="JOB_DIR", help="the job folder harbor wrote (jobs/<date>__<time>)")
    s.add_argument("--label", help="the run's name in reports (default: the job folder's name)")
    s.add_argument(
        "--tasks-dir",
        metavar="DIR",
        action="append",
        default=[],
        help="where the task folders are, when the job ran them from elsewhere"
        " (default: the path recorded in each trial, then ccl-tui's tasks folder)",
    )
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=lazy("ccl_tui.commands.results", "cmd_import"))
    s = rsub.add_parser("list", parents=[common], help="imported runs")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=lazy("ccl_tui.commands.results", "cmd_list"))
    s = rsub.add_parser("remove", parents=[common], help="forget an imported run")
    s.add_argument("label", metavar="LABEL")
    s.set_defaults(func=lazy("ccl_tui.commands.results", "cmd_remove"))

    s = sub.add_parser(
        "improvement", parents=[common], help="per issue: pass rate per Harbor run and recurrence before/after its fix"
    )
    s.add_argument("--baseline", metavar="LABEL", help="run to compare from (default: the oldest)")
    s.add_argument("--after", metavar="LABEL", help="run to compare to (default: the newest)")
    s.add_argument("--issue", metavar="ISSUE_ID", help="only this issue (id, prefix or rank)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--origin", help="origins of the sessions at risk (default: interactive,ide,other)")
    s.set_defaults(func=lazy("ccl_tui.commands.results", "cmd_improvement"))

    s = sub.add_parser("fix", parents=[common], help="mark the day an issue's fix went in (or --clear it)")
    s.add_argument("issue", metavar="ISSUE_ID", help="issue id, unique prefix or rank")
    s.add_argument("--date", metavar="D", help="YYYY-MM-DD, the first day with the fix (default: today)")
    s.add_argument("--note", default="", help="what changed (AGENTS.md, allow-list, model, environment...)")
    s.add_argument("--clear", action="store_true", help="remove the mark")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=lazy("ccl_tui.commands.results", "cmd_fix"))


#: What `results list` says about where a run's outcomes come from (model.results.PROVENANCES).
PROVENANCE_TEXT = {"harbor": "harbor", "local": "local, unisolated", "simulated": "SIMULATED"}


def _console(stderr: bool = False) -> Console:
    """Lines are not wrapped: ids, paths and figures stay whole when piped or grepped."""
    from ccl_tui.commands.common import console

    con = console(stderr=stderr)
    con.soft_wrap = True
    return con


def _err(message: str) -> int:
    from rich.text import Text

    _console(stderr=True).print(Text(message))
    return 2


def cmd_import(args: argparse.Namespace) -> int:
    from rich.text import Text

    from ccl_tui.commands.common import print_json, run_with_store
    from ccl_tui.locations import tasks_dir
    from ccl_tui.pipeline import refresh
    from ccl_tui.results.api import JobImportError, NotAJob, import_jobs

    async def go(store: Store) -> Any:
        await refresh(store)  # signal tasks are matched through the signals table
        return await import_jobs(store, args.job_dir, args.label, [*args.tasks_dir, tasks_dir()])

    try:
        reports = run_with_store(args.db, go)
    except (NotAJob, JobImportError) as exc:
        return _err(f"ccl-tui results import: {exc}")
    if args.json:
        print_json([r.to_json() for r in reports])
        return 0
    con = _console()
    for r in reports:
        what = "imported" if r.new_run else ("already imported; new trials added" if r.added else "already imported")
        con.print(Text(f"{r.run.describe()}: {what} ({r.run.job_dir})", style="bold"))
        if r.run.provenance == "simulated":
            con.print(Text("  SIMULATED: its outcomes were generated, no agent ran (the job folder says so)"))
        elif r.run.provenance == "local":
            con.print(Text("  ran in ccl-tui's LocalEnvironment: real outcomes, not isolated (trusted agents only)"))
        con.print(
            Text(
                f"  {r.added} trial(s) added, {r.already} already there; agent {r.run.agent or '?'},"
                f" model {r.run.model or '?'}"
            )
        )
        if r.pending:
            con.print(Text(f"  {r.pending} trial(s) still running (no result.json yet): import again later"))
        for s in r.skipped:
            con.print(Text(f"  skipped {s.path}: {s.reason}"))
        if r.unmatched:
            con.print(
                Text(
                    f"  not ccl-tui tasks (no issue): {', '.join(r.unmatched[:10])}"
                    + (" ..." if len(r.unmatched) > 10 else "")
                )
            )
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from rich.table import Table
    from rich.text import Text

    from ccl_tui.commands.common import print_json, run_with_store
    from ccl_tui.results.api import runs

    found = run_with_store(args.db, runs)
    if args.json:
        print_json([asdict(r) for r in found])
        return 0
    if not found:
        _console().print(Text("No runs imported. Import one: ccl-tui results import jobs/<job folder>"))
        return 0
    t = Table(box=None, header_style="bold")
    for col in ("label", "started", "agent", "model", "trials", "outcomes"):
        t.add_column(col, no_wrap=True)
    t.add_column("job folder", overflow="fold")
    for r in found:
        t.add_row(
            Text(r.label),
            Text((r.started_at or "")[:16]),
            Text(r.agent or ""),
            Text(r.model or ""),
            Text(str(r.trials)),
            Text(PROVENANCE_TEXT.get(r.provenance, r.provenance)),
            Text(r.job_dir),
        )
    _console().print(t)
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from rich.text import Text

    from ccl_tui.commands.common import run_with_store
    from ccl_tui.results.api import remove_run

    if not run_with_store(args.db, lambda store: remove_run(store, args.label)):
        return _err(f"no run labelled {args.label!r} (see: ccl-tui results list)")
    _console().print(Text(f"Removed run {args.label}"))
    return 0


def cmd_fix(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from rich.text import Text

    from ccl_tui.commands.common import print_json, run_with_store
    from ccl_tui.pipeline import ranked_issues, refresh
    from ccl_tui.results.api import clear_fix, mark_fix, parse_day
    from ccl_tui.tasks.api import find_issue
    from ccl_tui.tasks.model import TaskError

    try:
        day = parse_day(args.date)
    except ValueError as exc:
        return _err(f"ccl-tui fix: {exc}")

    async def go(store: Store) -> Any:
        await refresh(store)
        issue = find_issue(await ranked_issues(store), args.issue)
        if args.clear:
            return issue, await clear_fix(store, issue.id)
        return issue, await mark_fix(store, issue, day, args.note)

    try:
        issue, result = run_with_store(args.db, go)
    except TaskError as exc:
        return _err(f"ccl-tui fix: {exc}")
    if args.json:
        print_json(
            {
                "issue_id": issue.id,
                "title": issue.title,
                "fix": None if args.clear else asdict(result),
                "cleared": bool(args.clear and result),
            }
        )
        return 0
    if args.clear:
        _console().print(Text(f"{issue.id} {issue.title}: " + ("fix mark removed" if result else "had no fix mark")))
    else:
        _console().print(
            Text(f"{issue.id} {issue.title}: fixed on {result.fixed_on}" + (f" ({result.note})" if result.note else ""))
        )
        _console().print(Text(f"See the before/after: ccl-tui improvement --issue {issue.id}"))
    return 0


def change_text(c: Change) -> str:
    return c.describe() + ("" if c.significant else ", not significant")


def cmd_improvement(args: argparse.Namespace) -> int:
    from rich.text import Text

    from ccl_tui.commands.common import print_json, run_with_store
    from ccl_tui.pipeline import ranked_issues, refresh, scope_from
    from ccl_tui.results.api import improvement
    from ccl_tui.tasks.api import find_issue
    from ccl_tui.tasks.model import TaskError

    scope = scope_from(args.origin)

    async def go(store: Store) -> ImprovementReport:
        await refresh(store)
        issues = await ranked_issues(store, scope)
        ids = [find_issue(issues, args.issue).id] if args.issue else None
        return await improvement(store, issues, scope, baseline=args.baseline, after=args.after, issue_ids=ids)

    try:
        report = run_with_store(args.db, go)
    except TaskError as exc:
        return _err(f"ccl-tui improvement: {exc}")
    except KeyError as exc:
        return _err(f"ccl-tui improvement: no run labelled {exc.args[0]!r} (see: ccl-tui results list)")
    if args.json:
        print_json(report.to_json())
        return 0
    con = _console()
    con.print(
        Text(
            f"Runs: {', '.join(r.describe() for r in report.runs) or 'none imported'}"
            + (f"   comparing {report.baseline} -> {report.after}" if report.baseline != report.after else "")
        )
    )
    for p in report.suggestions:
        con.print(
            Text(
                f"Suggested fix date for {p.issue_id} {p.title}: {p.split} (share of sessions hit"
                f" {pct(p.before_rate)} of {p.before_sessions} before, {pct(p.after_rate)} of {p.after_sessions}"
                f" after, z = {p.z:.1f}): ccl-tui fix {p.issue_id} --date {p.split}"
            )
        )
    if not report.issues:
        con.print(
            Text(
                "No issue has Harbor results or a fix mark yet.\n"
                "  ccl-tui results import JOB_DIR   import a harbor run of tasks written by ccl-tui\n"
                "  ccl-tui fix ISSUE_ID --date D     mark when a fix went in"
            )
        )
        return 0
    for e in report.issues:
        con.print(Text(f"\n#{e.rank} {e.title}  [{e.issue_id}]", style="bold"))
        for r in e.runs:
            extra = f", {r.ungraded} not graded (infrastructure errors)" if r.ungraded else ""
            con.print(
                Text(
                    f"  run {r.describe()}: pass rate {r.passed.describe()}; {r.trials} trial(s),"
                    f" {r.errors} with errors{extra}"
                )
            )
        if e.run_change is not None:
            con.print(Text(f"  pass rate {e.baseline} -> {e.after}: {change_text(e.run_change)}"))
        if e.fix is None:
            con.print(Text("  no fix marked (ccl-tui fix ISSUE_ID --date D)"))
        elif e.recurrence is not None:
            rec = e.recurrence
            note = f" ({e.fix.note})" if e.fix.note else ""
            con.print(Text(f"  fixed on {e.fix.fixed_on}{note}: {rec.verdict}"))
            con.print(Text(f"    sessions hit before: {rec.before.describe()}"))
            con.print(Text(f"    sessions hit after:  {rec.after.describe()}"))
            con.print(Text(f"    change (same origin mix): {change_text(rec.change)}"))
        if e.weeks:
            fix_day = e.fix.fixed_on if e.fix else None
            cells = [f"{w.week[5:]} {w.hits}/{w.sessions}" + (" <fix" if w.contains(fix_day) else "") for w in e.weeks]
            con.print(Text("  sessions hit / at risk per week (Monday): " + ", ".join(cells)))
    return 0
