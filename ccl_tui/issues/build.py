"""Group friction signals into issues by signature and rank them by impact.

impact = sessions x severity x cost x recency

* sessions: distinct sessions affected.
* severity: per session the worst signal's severity (0..1), averaged.
* cost: per session, in turn equivalents, for the costliest signal:
  1 + extra prompts x w_turn + minutes x w_minute + Mtokens x w_tokens (+ penalty if never resolved).
* recency: 0.5 ** (days since last seen / half-life), floored; "now" is the newest session in scope so a
  replayed corpus ranks the same on any day.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable

from ccl_tui.config.settings import ImpactWeights
from ccl_tui.model.events import ts_epoch
from ccl_tui.model.issues import Evidence, Impact, Issue, SessionInfo
from ccl_tui.model.signals import FRICTION_KINDS, Signal
from ccl_tui.model.signals import SignalKind as S


def issue_id(signature: str) -> str:
    """Stable across runs and machines: a hash of the normalized signature."""
    return "I-" + hashlib.sha1(signature.encode("utf-8")).hexdigest()[:10]


def title_for(kind: str, signature: str) -> str:
    program, _, what = signature.partition("|")
    program = program.strip()
    what = what.strip()
    if kind in (S.COMMAND_FAILURE, S.RETRY_LOOP):
        subject = program if program and program != "-" else "command"
        return f"{subject} fails" if what in ("", "error") else f"{subject} fails: {what}"
    if kind == S.PATCH_FAILURE:  # Codex's apply_patch, or Claude Code's Edit / Write / MultiEdit
        return f"{program or 'apply_patch'} fails: {what}"
    if kind == S.TIMEOUT:
        return f"{program} times out"
    if kind == S.DENIAL:
        return f"approvals denied for {what}"
    if kind == S.APPROVAL_WAIT:
        return f"{what} waits on an approval for minutes"
    if kind == S.CONTEXT_TRUNCATION:
        return {
            "compaction": "context compacted mid-task",
            "window exceeded": "context window exceeded",
            "tool output truncated": "tool output truncated before the model saw it",
        }.get(what, f"context window pressure ({what})")
    if kind == S.INTERRUPT:
        if what.startswith("during "):
            return f"user interrupts the agent during `{what[7:]}`"
        return f"user interrupts the agent {what}" if what.startswith("while") else f"turn {what}"
    if kind == S.USER_PUSHBACK:
        return pushback_title(what)
    if kind == S.ERROR:
        return f"{program}: {what}" if what else program
    return signature


_PUSHBACK_PHRASES = {
    "correction": "user corrects the agent after {obj}",
    "still failing": "user reports it still does not work after {obj}",
    "revert": "user asks to undo {obj}",
    "stop": "user stops the agent after {obj}",
    "pasted error": "user pastes an error back after {obj}",
    "repeat": "user repeats the request after {obj}",
}


def pushback_title(what: str) -> str:
    """``"still failing | edits"`` -> "user reports it still does not work after the agent's edits"."""
    category, _, obj = what.partition(" | ")
    target = {
        "edits": "the agent's edits",
        "answer": "the agent's answer",
        "silence": "a turn that produced nothing",
    }.get(obj, f"`{obj}`" if obj else "its work")
    phrase = _PUSHBACK_PHRASES.get(category)
    return phrase.format(obj=target) if phrase else f"user pushes back ({category}) after {target}"


def cost_units(s: Signal, w: ImpactWeights) -> float:
    c = s.cost
    units = 1.0 + c.turns * w.cost_per_turn + c.seconds / 60 * w.cost_per_minute
    units += c.tokens / 1_000_000 * w.cost_per_million_tokens
    if not c.resolved:
        units += w.unresolved_penalty
    return units


def build_issues(
    signals: Iterable[Signal],
    sessions: dict[str, SessionInfo],
    weights: ImpactWeights | None = None,
    *,
    now: str | None = None,
) -> list[Issue]:
    """Issues from friction signals, ranked by impact (highest first). Delight and notes are not ranked."""
    w = weights or ImpactWeights()
    groups: dict[str, list[Signal]] = defaultdict(list)
    for s in signals:
        if s.kind in FRICTION_KINDS:
            groups[s.signature].append(s)
    if now is None:
        now = max((i.started_at for i in sessions.values() if i.started_at), default=None)
    now_t = ts_epoch(now)
    issues = [_issue(sig, sigs, sessions, w, now_t) for sig, sigs in groups.items()]
    issues.sort(key=lambda i: (-i.impact.impact, -i.impact.sessions, i.id))
    for rank, issue in enumerate(issues, 1):
        issue.rank = rank
    return issues


def _issue(
    signature: str, sigs: list[Signal], sessions: dict[str, SessionInfo], w: ImpactWeights, now_t: float | None
) -> Issue:
    by_session: dict[str, list[Signal]] = defaultdict(list)
    for s in sigs:
        by_session[s.session_id].append(s)
    kinds = Counter(s.kind for s in sigs)
    # A retry loop restates failures already counted; it names the issue only when nothing else does.
    dominant = next((k for k, _ in kinds.most_common() if k != S.RETRY_LOOP), S.RETRY_LOOP)
    worst: list[Signal] = []
    sev_sum = cost_sum = turns = minutes = tokens = unresolved = 0.0
    for ss in by_session.values():
        top = max(ss, key=lambda s: (s.severity * cost_units(s, w), s.timestamp or ""))
        worst.append(top)
        sev_sum += max(s.severity for s in ss)
        costliest = max(ss, key=lambda s: cost_units(s, w))
        cost_sum += cost_units(costliest, w)
        turns += costliest.cost.turns
        minutes += costliest.cost.seconds / 60
        tokens += costliest.cost.tokens
        unresolved += 0.0 if all(s.cost.resolved for s in ss) else 1.0
    n = len(by_session)
    # When a signal has no time of its own, its session's start stands in; with no time at all the issue
    # gets the recency floor: an undated failure is never treated as happening "now".
    stamps = sorted(
        s.timestamp or (sessions[s.session_id].started_at if s.session_id in sessions else None) or "" for s in sigs
    )
    stamps = [t for t in stamps if t]
    last_t = ts_epoch(stamps[-1]) if stamps else None
    days: float | None = max((now_t - last_t) / 86400, 0.0) if now_t is not None and last_t is not None else None
    if w.recency_half_life_days <= 0:
        recency = 1.0
    elif days is None:
        recency = w.recency_floor
    else:
        recency = max(w.recency_floor, 0.5 ** (days / w.recency_half_life_days))
    severity = sev_sum / n
    cost = cost_sum / n
    impact = Impact(
        sessions=n,
        severity=round(severity, 3),
        cost=round(cost, 3),
        recency=round(recency, 3),
        impact=round(n * severity * cost * recency, 2),
        turns_lost=round(turns / n, 2),
        minutes_lost=round(minutes / n, 2),
        tokens_lost=round(tokens / n),
        unresolved=round(unresolved / n, 3),
        days_since_last=round(days, 1) if days is not None else None,
    )
    infos = [sessions[sid] for sid in by_session if sid in sessions]
    worst.sort(key=lambda s: (-s.severity * cost_units(s, w), s.session_id))
    evidence = [Evidence(s.session_id, s.seq, s.kind, s.detail, s.call_id, s.timestamp, s.severity) for s in worst]
    return Issue(
        id=issue_id(signature),
        signature=signature,
        kind=str(dominant),
        title=title_for(dominant, signature),
        impact=impact,
        occurrences=sum(1 for s in sigs if s.kind != S.RETRY_LOOP) or len(sigs),
        first_seen=stamps[0] if stamps else None,
        last_seen=stamps[-1] if stamps else None,
        repos=sorted({i.repo for i in infos if i.repo}),
        origins=dict(Counter(i.origin for i in infos)),
        agents=dict(Counter(i.agent for i in infos)),
        kinds={str(k): v for k, v in kinds.items()},
        session_ids=sorted(by_session),
        representative=evidence[0] if evidence else None,
        evidence=evidence,
    )
