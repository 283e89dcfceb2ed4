"""Run every registered detector over a session and measure what each friction moment cost."""

from __future__ import annotations

from ccl_tui.config.settings import SignalThresholds
from ccl_tui.model.events import Event, EventKind
from ccl_tui.model.signals import DELIGHT_KINDS, FRICTION_KINDS, Cost, Signal
from ccl_tui.model.signals import SignalKind as S
from ccl_tui.signals.registry import load_all
from ccl_tui.signals.session_view import SessionView
from ccl_tui.signals.version import DETECTOR_VERSION

__all__ = ["DETECTOR_VERSION", "cost_of", "detect_session"]

K = EventKind
_CALL_KINDS = (S.COMMAND_FAILURE, S.TIMEOUT, S.PATCH_FAILURE, S.RETRY_LOOP, S.ERROR)
#: Friction that costs the user a detour until a turn completes after it.
_TURN_KINDS = (S.INTERRUPT, S.USER_PUSHBACK, S.DENIAL)


def detect_session(
    session_id: str, events: list[Event], th: SignalThresholds, origin: str | None = None
) -> list[Signal]:
    """All signals of one session: friction first, then notes, then delight, in evidence order per kind."""
    detectors = load_all()
    view = SessionView(session_id, events, origin)
    friction: list[Signal] = []
    notes: list[Signal] = []
    for kind, fn in detectors.items():
        if kind in FRICTION_KINDS:
            friction.extend(fn(view, th))
        elif kind not in DELIGHT_KINDS:
            notes.extend(fn(view, th))
    view.friction = friction
    delight: list[Signal] = []
    for kind, fn in detectors.items():
        if kind in DELIGHT_KINDS:
            delight.extend(fn(view, th))
    for s in friction:
        s.cost = cost_of(view, s)
    return friction + notes + delight


def cost_of(view: SessionView, s: Signal) -> Cost:
    """Turns, time and tokens spent from the friction until it was resolved (or the session ended).

    Call failures are resolved by the next successful run of the same program, in whatever shape Codex
    recorded it (for patches: the next patch that applied; for MCP tools: the next result without error);
    interrupts, pushback and refusals by the next turn that completed (``task_complete``, or in files that
    have none, the agent's final answer of a turn). An approval wait costs the time waited. Context pressure
    and Codex errors have no recovery step to measure: they cost their base unit. Tokens are the growth of
    Codex's cumulative count over the span, never the count itself.
    """
    if s.kind == S.APPROVAL_WAIT:
        return Cost(seconds=s.cost.seconds, resolved=True)
    if s.kind not in _CALL_KINDS and s.kind not in _TURN_KINDS:
        return Cost(resolved=True)
    if s.kind == S.ERROR and s.call_id is None:
        return Cost(resolved=True)  # a Codex or stream error, not a tool call
    start = min(s.evidence) if s.kind in _CALL_KINDS else s.seq
    end_seq: int | None = None
    if s.kind in _CALL_KINDS:
        program = s.signature.split(" | ", 1)[0]
        failed_call = next((c for c in view.calls if s.call_id and c.call_id == s.call_id), None)
        tool = failed_call.tool if failed_call is not None else None
        last = max(s.evidence)
        for c in view.calls:
            if c.first.seq <= last or c.ok is not True:
                continue
            if program == "apply_patch":
                hit = c.is_patch
            elif s.kind == S.ERROR:
                hit = tool is not None and c.tool == tool
            else:
                hit = c.program == program
            if hit:
                end_seq = c.evidence_seq
                break
    else:
        end_seq = view.completion_after(s.seq)
    resolved = end_seq is not None
    end = end_seq if end_seq is not None else view.last_seq
    start_turn = view.by_seq[start].turn
    end_turn = view.by_seq[end].turn if end in view.by_seq else view.last_turn
    return Cost(
        turns=max(end_turn - start_turn, 0),
        seconds=round(view.seconds_between(start, end), 1),
        tokens=view.tokens_between(start, end),
        resolved=resolved,
    )
