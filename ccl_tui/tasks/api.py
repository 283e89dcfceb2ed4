"""Entry points shared by the CLI and the TUI: one issue or one signal -> one Harbor task directory."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ccl_tui.issues.model import Evidence, Issue
from ccl_tui.locations import tasks_dir
from ccl_tui.signals.model import DELIGHT_KINDS, Signal
from ccl_tui.store.db import Store
from ccl_tui.tasks.build import BuiltTask, build_task
from ccl_tui.tasks.check import harbor_problems
from ccl_tui.tasks.model import KEEP_GREEN, NEEDS_REPOSITORY, IssueInfo, TaskError, TaskPlan, TaskResult
from ccl_tui.tasks.paths import task_name
from ccl_tui.tasks.select import find_signal, plan_from_session
from ccl_tui.tasks.text import clean_line
from ccl_tui.tasks.write import write_task_dir

#: How many of an issue's sessions are tried when the representative one has nothing to verify.
MAX_CANDIDATES = 12


def find_issue(issues: list[Issue], issue_id: str) -> Issue:
    """An issue by id, unique id prefix, or rank number."""
    want = issue_id.strip()
    if want.isdigit():
        ranked = [i for i in issues if i.rank == int(want)]
        if ranked:
            return ranked[0]
    low = want.lower()
    exact = [i for i in issues if i.id.lower() == low]
    if exact:
        return exact[0]
    prefixed = [i for i in issues if i.id.lower().startswith(low) or i.id.lower()[2:].startswith(low)]
    if len(prefixed) == 1:
        return prefixed[0]
    if prefixed:
        raise TaskError(f"issue id {issue_id!r} is ambiguous ({len(prefixed)} issues match)")
    raise TaskError(f"no issue {issue_id!r} in the current ranking (run `ccl-tui report` to list issues)")


def issue_info(issue: Issue) -> IssueInfo:
    return IssueInfo(
        id=issue.id, title=issue.title, kind=issue.kind, signature=issue.signature, impact=issue.impact.impact,
        formula=issue.impact.formula(), sessions=issue.impact.sessions, session_ids=list(issue.session_ids),
        evidence=[{"session_id": e.session_id, "seq": e.seq, "kind": e.kind, "detail": clean_line(e.detail, 240)}
                  for e in issue.evidence],
    )  # fmt: skip


async def plan_for_signal(store: Store, session_id: str, seq: int, kind: str | None = None) -> tuple[Signal, TaskPlan]:
    session = await store.session(session_id)
    if session is None:
        raise TaskError(f"no session {session_id!r} in the store")
    signals = await store.signals(session.id)
    signal = find_signal(signals, seq, kind)
    if signal is None:
        raise TaskError(f"no signal at event {seq} of session {session.id}")
    events = await store.events(session.id)
    return signal, plan_from_session(signal, session, events)


async def plan_for_issue(store: Store, issue: Issue) -> TaskPlan:
    """The representative signal's plan, or the next evidence session's when it has nothing to verify."""
    candidates: list[Evidence] = []
    for ev in ([issue.representative] if issue.representative else []) + list(issue.evidence):
        if ev is not None and all((ev.session_id, ev.seq) != (c.session_id, c.seq) for c in candidates):
            candidates.append(ev)
    reasons: list[str] = []
    for i, ev in enumerate(candidates[:MAX_CANDIDATES]):
        try:
            _signal, plan = await plan_for_signal(store, ev.session_id, ev.seq, ev.kind)
        except TaskError as exc:
            reasons.append(str(exc))
            continue
        if i > 0:
            plan.notes.append(f"the representative session had nothing to verify ({reasons[0]}); used session"
                              f" {ev.session_id} instead")  # fmt: skip
        return plan
    detail = "; ".join(dict.fromkeys(reasons[:3])) or "the issue has no evidence"
    raise TaskError(f"issue {issue.id}: no session of this issue recorded a check to verify a task with ({detail})")


def issue_task_name(issue: Issue) -> str:
    return task_name("ccl", issue.id, clean_line(issue.title, 200))  # a title can quote a secret: redact first


def signal_task_name(session_id: str, seq: int, kind: str) -> str:
    label = "keep-green" if kind in DELIGHT_KINDS else "signal"
    return task_name("ccl", label, session_id[:13], str(seq), kind)


def _result(path: Path, name: str, plan: TaskPlan, built: BuiltTask, issue_id: str | None) -> TaskResult:
    valid, problems = harbor_problems(path)
    env = built.environment
    return TaskResult(
        path=path, name=name, flavour=plan.flavour, environment_mode=env.mode,
        needs_repository=env.mode == NEEDS_REPOSITORY, reason=env.reason, has_solution=built.has_solution,
        solution_reason=built.solution_reason, verifier_command=built.command,
        verifier_reason=clean_line(plan.verifier_reason, 500), files=sorted(built.files), valid=valid,
        problems=problems if valid is not None else [], issue_id=issue_id, session_id=plan.session_id,
        signal_seq=plan.signal_seq,
    )  # fmt: skip


def _write(plan: TaskPlan, info: IssueInfo | None, title: str, name: str, out_dir: Path, force: bool,
           allow_local: bool) -> TaskResult:  # fmt: skip
    built = build_task(plan, info, title, allow_local=allow_local)
    path = write_task_dir(out_dir, name, built.files, force=force)
    return _result(path, name, plan, built, info.id if info else None)


async def write_task_for_issue(store: Store, issue_id: str, out_dir: Path | str | None = None, *,
                               force: bool = False, allow_local: bool = True) -> TaskResult:  # fmt: skip
    """Write the Harbor task for an issue (its most representative signal). Raises TaskError.

    Reads the stored ranking: call ``pipeline.refresh(store)`` first so it is current.
    """
    issue = find_issue(await store.issues(), issue_id)
    return await write_issue_task(store, issue, out_dir, force=force, allow_local=allow_local)


async def write_issue_task(store: Store, issue: Issue, out_dir: Path | str | None = None, *,
                           force: bool = False, allow_local: bool = True) -> TaskResult:  # fmt: skip
    plan = await plan_for_issue(store, issue)
    info = issue_info(issue)
    name = issue_task_name(issue)
    title = ("Keep green: " if plan.flavour == KEEP_GREEN else "Fix: ") + issue.title
    out = Path(out_dir) if out_dir is not None else tasks_dir()
    return await asyncio.to_thread(_write, plan, info, title, name, out, force, allow_local)


async def write_task_for_signal(store: Store, session_id: str, seq: int, out_dir: Path | str | None = None, *,
                                force: bool = False, allow_local: bool = True) -> TaskResult:  # fmt: skip
    """Write the Harbor task for one chosen signal (friction -> fix task, delight -> keep-green task)."""
    signal, plan = await plan_for_signal(store, session_id, seq)
    keep_green = plan.flavour == KEEP_GREEN
    name = signal_task_name(plan.session_id, plan.signal_seq, signal.kind)
    what = plan.repo_name or "session"
    title = (f"Keep green: {what} ({signal.kind})" if keep_green
             else f"Fix: {clean_line(signal.detail, 120)}")  # fmt: skip
    out = Path(out_dir) if out_dir is not None else tasks_dir()
    return await asyncio.to_thread(_write, plan, None, title, name, out, force, allow_local)
