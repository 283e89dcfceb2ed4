"""Entry points shared by the CLI and the TUI: one issue or one signal -> one Harbor task directory."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from ccl_tui.locations import tasks_dir
from ccl_tui.model.issues import Evidence, Issue
from ccl_tui.model.signals import DELIGHT_KINDS, Signal
from ccl_tui.store.db import Store
from ccl_tui.tasks import contract
from ccl_tui.tasks.build import BuiltTask, build_task
from ccl_tui.tasks.check import harbor_problems
from ccl_tui.tasks.model import (
    KEEP_GREEN,
    NEEDS_REPOSITORY,
    IssueInfo,
    TaskError,
    TaskPlan,
    TaskRefused,
    TaskResult,
    TaskSkipped,
)
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
        id=issue.id,
        title=issue.title,
        kind=issue.kind,
        signature=issue.signature,
        impact=issue.impact.impact,
        formula=issue.impact.formula(),
        sessions=issue.impact.sessions,
        session_ids=list(issue.session_ids),
        evidence=[
            {"session_id": e.session_id, "seq": e.seq, "kind": e.kind, "detail": clean_line(e.detail, 240)}
            for e in issue.evidence
        ],
    )


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


#: Which plan of an issue's sessions is preferred: proven fix first, then keep-green, then unproven.
_PREFERENCE = {contract.PROVEN_FIX: 0, contract.KEEP_GREEN: 1, contract.UNPROVEN: 2}


async def plan_for_issue(store: Store, issue: Issue) -> TaskPlan:
    """The best plan among the issue's sessions: the representative signal's unless another evidence session
    gives a better-proven task (a proven fix over keep-green over unproven). Sessions whose check depends on
    the host are passed over; when all are, TaskRefused says why."""
    candidates: list[Evidence] = []
    for ev in ([issue.representative] if issue.representative else []) + list(issue.evidence):
        if ev is not None and all((ev.session_id, ev.seq) != (c.session_id, c.seq) for c in candidates):
            candidates.append(ev)
    reasons: list[str] = []
    refused: list[str] = []
    best: tuple[int, int, TaskPlan] | None = None
    for i, ev in enumerate(candidates[:MAX_CANDIDATES]):
        try:
            _signal, plan = await plan_for_signal(store, ev.session_id, ev.seq, ev.kind)
        except TaskError as exc:
            reasons.append(str(exc))
            continue
        verdict = plan.contract
        if verdict is not None and verdict.cls == contract.REFUSED:
            refused.append(verdict.reason)
            continue
        rank = _PREFERENCE.get(verdict.cls if verdict is not None else contract.UNPROVEN, 2)
        if best is None or rank < best[0]:
            best = (rank, i, plan)
        if rank == 0:
            break
    if best is not None:
        _rank, i, plan = best
        if i > 0:
            if reasons:
                why = f"the representative session had nothing to verify ({clean_line(reasons[0], 200)})"
            elif refused:
                why = f"the representative session's check depends on the host ({clean_line(refused[0], 200)})"
            else:
                why = "the representative session's task was less proven"
            plan.notes.append(f"{why}; used session {plan.session_id} instead")
        return plan
    if refused:
        raise TaskRefused(f"issue {issue.id}: {refused[0]}", refused[0])
    detail = "; ".join(dict.fromkeys(reasons[:3])) or "the issue has no evidence"
    raise TaskError(f"issue {issue.id}: no session of this issue recorded a check to verify a task with ({detail})")


def issue_task_name(issue: Issue, keep_green: bool = False) -> str:
    label = ("keep-green",) if keep_green else ()
    return task_name("ccl", issue.id, *label, clean_line(issue.title, 200))  # a title can quote a secret: redact first


def signal_task_name(session_id: str, seq: int, kind: str, keep_green: bool | None = None) -> str:
    if keep_green is None:
        keep_green = kind in DELIGHT_KINDS
    label = "keep-green" if keep_green else "signal"
    return task_name("ccl", label, session_id[:13], str(seq), kind)


def _result(path: Path, name: str, plan: TaskPlan, built: BuiltTask, issue_id: str | None) -> TaskResult:
    valid, problems = harbor_problems(path)
    env = built.environment
    verdict = built.contract
    return TaskResult(
        path=path,
        name=name,
        flavour=verdict.flavour if verdict is not None else plan.flavour,
        environment_mode=env.mode,
        needs_repository=env.mode == NEEDS_REPOSITORY,
        reason=env.reason,
        has_solution=built.has_solution,
        solution_reason=built.solution_reason,
        verifier_command=built.command,
        verifier_reason=clean_line(plan.verifier_reason, 500),
        files=sorted(built.files),
        valid=valid,
        problems=problems if valid is not None else [],
        issue_id=issue_id,
        session_id=plan.session_id,
        signal_seq=plan.signal_seq,
        contract=verdict,
        start_seq=plan.start_seq,
        start_state=plan.start_state,
        verifier_key=" ".join(plan.verifier.command.split()),
        network_mode=str(built.metadata.get("environment", {}).get("network_mode", "public")),
    )


#: Decides, from a task's contract (and its plan), whether it is written: None to write it, else why not. Called
#: once before the task is built and once after (building can demote a contract).
Accept = Callable[[contract.Contract, TaskPlan], str | None]


def _keep_green(verdict: contract.Contract | None) -> bool:
    return verdict is not None and (
        verdict.cls == contract.KEEP_GREEN or (verdict.cls == contract.UNPROVEN and verdict.planned == KEEP_GREEN)
    )


def _write(
    plan: TaskPlan,
    info: IssueInfo | None,
    title: Callable[[bool], str],
    name: Callable[[bool], str],
    out_dir: Path,
    force: bool,
    allow_local: bool,
    accept: Accept | None,
) -> TaskResult:
    if plan.contract is not None and plan.contract.cls == contract.REFUSED:
        raise TaskRefused(f"no task: {plan.contract.reason}", plan.contract.reason, plan.contract)
    if accept is not None and plan.contract is not None:  # building can only demote: reject early, cheaply
        why = accept(plan.contract, plan)
        if why is not None:
            raise TaskSkipped(why, plan.contract.reason, plan.contract)
    built = build_task(plan, info, lambda p: title(_keep_green(p.contract)), allow_local=allow_local)
    if accept is not None and built.contract is not None:
        why = accept(built.contract, plan)
        if why is not None:
            raise TaskSkipped(why, built.contract.reason, built.contract)
    task = name(_keep_green(built.contract))
    path = write_task_dir(out_dir, task, built.files, force=force)
    return _result(path, task, plan, built, info.id if info else None)


async def write_task_for_issue(
    store: Store, issue_id: str, out_dir: Path | str | None = None, *, force: bool = False, allow_local: bool = True
) -> TaskResult:
    """Write the Harbor task for an issue (its most representative signal). Raises TaskError (TaskRefused when
    the check depends on the host).

    Reads the stored ranking: call ``pipeline.refresh(store)`` first so it is current.
    """
    issue = find_issue(await store.issues(), issue_id)
    return await write_issue_task(store, issue, out_dir, force=force, allow_local=allow_local)


async def write_issue_task(
    store: Store,
    issue: Issue,
    out_dir: Path | str | None = None,
    *,
    force: bool = False,
    allow_local: bool = True,
    accept: Accept | None = None,
) -> TaskResult:
    plan = await plan_for_issue(store, issue)
    info = issue_info(issue)
    out = Path(out_dir) if out_dir is not None else tasks_dir()
    return await asyncio.to_thread(
        _write,
        plan,
        info,
        lambda kg: ("Keep green: " if kg else "Fix: ") + issue.title,
        lambda kg: issue_task_name(issue, kg),
        out,
        force,
        allow_local,
        accept,
    )


async def write_task_for_signal(
    store: Store,
    session_id: str,
    seq: int,
    out_dir: Path | str | None = None,
    *,
    force: bool = False,
    allow_local: bool = True,
    accept: Accept | None = None,
) -> TaskResult:
    """Write the Harbor task for one chosen signal (friction -> fix task, delight -> keep-green task)."""
    signal, plan = await plan_for_signal(store, session_id, seq)
    what = plan.repo_name or "session"

    def title(keep_green: bool) -> str:
        return f"Keep green: {what} ({signal.kind})" if keep_green else f"Fix: {clean_line(signal.detail, 120)}"

    def name(keep_green: bool) -> str:
        return signal_task_name(plan.session_id, plan.signal_seq, signal.kind, keep_green)

    out = Path(out_dir) if out_dir is not None else tasks_dir()
    return await asyncio.to_thread(_write, plan, None, title, name, out, force, allow_local, accept)
