"""What the CLI and the TUI call: import Harbor jobs, mark fixes, compute improvement per issue."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ccl_tui.issues.build import issue_id as signature_issue_id
from ccl_tui.issues.trend import ChangePoint, find_change_points
from ccl_tui.model.issues import Issue
from ccl_tui.model.results import Fix, ImportReport, IssueImprovement, Run, Trial
from ccl_tui.results import matching
from ccl_tui.results.harbor_job import JobRead, NotAJob, find_jobs, read_job
from ccl_tui.results.improvement import issue_improvements, pick_runs
from ccl_tui.scope import Scope
from ccl_tui.store import results as sql
from ccl_tui.store.db import Store

__all__ = ["ImprovementReport", "JobImportError", "NotAJob"]


class JobImportError(ValueError):
    """A job cannot be imported as asked (e.g. its label is taken by another job)."""


@dataclass(slots=True)
class ImprovementReport:
    """The closed-loop report: runs imported, the two compared, and one entry per tracked issue."""

    runs: list[Run]
    baseline: str | None
    after: str | None
    issues: list[IssueImprovement] = field(default_factory=list)
    #: issues without a fix mark whose rate fell significantly on some day (found from the data alone)
    suggestions: list[ChangePoint] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        from dataclasses import asdict

        return {
            "runs": [asdict(r) for r in self.runs],
            "baseline": self.baseline,
            "after": self.after,
            "issues": [i.to_json() for i in self.issues],
            "suggested_fix_dates": [{**asdict(s), "drop": round(s.drop, 4)} for s in self.suggestions],
        }


async def _resolve_signal(store: Store, session: str, seq: int) -> str | None:
    """The issue of the friction signal at (session, seq); a session prefix must be unambiguous."""
    ids = [session] if len(session) >= 32 else await sql.session_ids_with_prefix(store.db, session)
    if len(ids) != 1:
        return None
    for s in await store.signals(ids[0]):
        if s.seq == seq and s.polarity == "friction" and s.signature:
            return signature_issue_id(s.signature)
    return None


async def _match(store: Store, trials: list[Trial], task_dirs: list[Path]) -> None:
    def find() -> list[matching.Match | None]:
        dirs = [d.expanduser() for d in task_dirs]
        seen: dict[tuple[str, str | None], matching.Match | None] = {}  # a task runs k times: match it once
        for t in trials:
            key = (t.task_name, t.task_path)
            if key not in seen:
                seen[key] = matching.match_trial(t.task_name, t.task_path, dirs)
        return [seen[(t.task_name, t.task_path)] for t in trials]

    resolved: dict[tuple[str, int], str | None] = {}
    for t, m in zip(trials, await asyncio.to_thread(find), strict=True):
        if m is None:
            continue
        if m.issue_id:
            t.issue_id, t.match = m.issue_id, m.how
        elif m.session_id and m.seq is not None:
            key = (m.session_id, m.seq)
            if key not in resolved:
                resolved[key] = await _resolve_signal(store, m.session_id, m.seq)
            if resolved[key]:
                t.issue_id, t.match = resolved[key], m.how


async def import_jobs(
    store: Store, path: Path | str, label: str | None = None, task_dirs: Iterable[Path | str] = ()
) -> list[ImportReport]:
    """Import one job folder (or every job folder in a ``jobs/`` folder). Idempotent: trials already imported
    are not added again. Raises NotAJob or JobImportError with a message for the user."""
    jobs = await asyncio.to_thread(find_jobs, Path(path))
    if label is not None and len(jobs) > 1:
        raise JobImportError(f"{path} holds {len(jobs)} jobs: --label names one job; import them one by one")
    dirs = [Path(d) for d in task_dirs]
    reports = []
    for job_dir in jobs:
        job: JobRead = await asyncio.to_thread(read_job, job_dir)
        existing = await sql.run_by_job(store.db, job.job_id)
        name = existing.label if existing else (label or job_dir.name)
        if existing and label is not None and label != existing.label:
            raise JobImportError(f"{job_dir} was imported before as {existing.label!r}")
        if existing is None and await sql.label_taken(store.db, name):
            raise JobImportError(f"the label {name!r} is taken by another job: pass --label")
        await _match(store, job.trials, dirs)
        new, added, already = await sql.save_run(
            store.db, name, job.job_id, job.job_dir, job.started_at, job.finished_at, job.trials, job.provenance
        )
        run = await sql.run_by_job(store.db, job.job_id)
        assert run is not None
        unmatched = sorted({t.task_name for t in job.trials if not t.issue_id})
        reports.append(ImportReport(run, added, already, unmatched, job.skipped, job.pending, new))
    return reports


async def runs(store: Store) -> list[Run]:
    return await sql.runs(store.db)


async def remove_run(store: Store, label: str) -> bool:
    return await sql.delete_run(store.db, label)


async def fixes(store: Store) -> dict[str, Fix]:
    return await sql.fixes(store.db)


def parse_day(text: str | None) -> str:
    """YYYY-MM-DD (today when None). Raises ValueError with a readable message."""
    if text is None:
        return date.today().isoformat()
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise ValueError(f"not a date: {text!r} (expected YYYY-MM-DD)") from None


async def mark_fix(store: Store, issue: Issue | str, day: str | None = None, note: str = "") -> Fix:
    issue_id = issue if isinstance(issue, str) else issue.id
    fixed_on = parse_day(day)
    await sql.set_fix(store.db, issue_id, fixed_on, note.strip()[:500])
    return (await sql.fixes(store.db))[issue_id]


async def clear_fix(store: Store, issue_id: str) -> bool:
    return await sql.clear_fix(store.db, issue_id)


async def improvement(
    store: Store,
    issues: list[Issue],
    scope: Scope | None = None,
    *,
    baseline: str | None = None,
    after: str | None = None,
    issue_ids: Iterable[str] | None = None,
    only_tracked: bool = True,
) -> ImprovementReport:
    """The report for ``issues`` (a ranking from ``pipeline.ranked_issues``). Raises KeyError for an
    unknown run label."""
    all_runs = await sql.runs(store.db)
    base, aft = pick_runs(all_runs, baseline, after)
    wanted = set(issue_ids) if issue_ids is not None else None
    chosen = [i for i in issues if wanted is None or i.id in wanted]
    all_fixes = await sql.fixes(store.db)
    fixes_ = all_fixes if wanted is None else {k: v for k, v in all_fixes.items() if k in wanted}
    trials = await sql.trials(store.db, wanted)
    tracked_ids = {t.issue_id for _, t in trials} | set(fixes_)
    tracked = [i for i in chosen if not only_tracked or i.id in tracked_ids]
    occ_by_sig = await sql.occurrences(store.db, [i.signature for i in tracked])
    occurrences = {i.id: occ_by_sig.get(i.signature, {}) for i in tracked}
    infos = await store.session_infos()
    origins = scope.origins if scope is not None else None
    entries = issue_improvements(
        tracked,
        infos,
        all_runs,
        trials,
        fixes_,
        baseline=base,
        after=aft,
        origins=origins,
        occurrences=occurrences,
        only_tracked=only_tracked,
    )
    points = [p for p in find_change_points(chosen, infos, origins=origins) if p.issue_id not in all_fixes]
    return ImprovementReport(all_runs, base, aft, entries, points)
