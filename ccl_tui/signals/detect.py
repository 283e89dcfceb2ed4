"""Run every registered detector over a session and measure what each friction moment cost."""

from __future__ import annotations

from ccl_tui.config.settings import SignalThresholds
from ccl_tui.signals.model import DELIGHT_KINDS, Cost, Signal
from ccl_tui.signals.model import SignalKind as S
from ccl_tui.signals.registry import load_all
from ccl_tui.signals.session_view import SessionView
from ccl_tui.sources.model import Event, EventKind

K = EventKind
#: Bump when detector logic changes: stored signals of older versions are recomputed.
DETECTOR_VERSION = 1
_CALL_KINDS = (S.COMMAND_FAILURE, S.TIMEOUT, S.PATCH_FAILURE, S.RETRY_LOOP)
#: Friction that costs the user a detour until the turn completes; other kinds (context pressure, Codex
#: errors) are costed at their base unit only.
_TURN_KINDS = (S.INTERRUPT, S.USER_PUSHBACK, S.REPEATED_DENIAL)


def detect_session(session_id: str, events: list[Event], th: SignalThresholds, origin: str | None = None) -> list[Signal]:
    """All signals of one session, friction first, in evidence order within each kind."""
    detectors = load_all()
    view = SessionView(session_id, events, origin)
    friction: list[Signal] = []
    for kind, fn in detectors.items():
        if kind not in DELIGHT_KINDS:
            friction.extend(fn(view, th))
    view.friction = friction
    delight: list[Signal] = []
    for kind, fn in detectors.items():
        if kind in DELIGHT_KINDS:
            delight.extend(fn(view, th))
    for s in friction:
        s.cost = cost_of(view, s)
    return friction + delight


def cost_of(view: SessionView, s: Signal) -> Cost:
    """Turns, time and tokens spent from the friction until it was resolved (or the session ended).

    Call failures are resolved by the next successful run of the same program (for patches: the next patch
    that applied); interrupts, pushback and denials by the next completed turn. Context pressure and Codex
    errors have no recovery step to measure: they cost their base unit.
    """
    if s.kind not in _CALL_KINDS and s.kind not in _TURN_KINDS:
        return Cost(resolved=True)
    start = min(s.evidence)
    end_seq: int | None = None
    if s.kind in _CALL_KINDS:
        program = s.signature.split(" | ", 1)[0]
        last = max(s.evidence)
        for c in view.calls:
            if c.first.seq <= last or c.ok is not True:
                continue
            if (program == "apply_patch" and c.is_patch) or (c.program == program and program != "apply_patch"):
                end_seq = c.evidence_seq
                break
    else:
        end_seq = next(
            (e.seq for e in view.events if e.seq > s.seq and e.kind == K.TURN_COMPLETED),
            None,
        )
    resolved = end_seq is not None
    end = end_seq if end_seq is not None else view.last_seq
    start_turn = view.by_seq[start].turn
    end_turn = view.by_seq[end].turn if end in view.by_seq else view.last_turn
    return Cost(
        turns=max(end_turn - start_turn, 0),
        seconds=round(view.seconds_between(start, end), 1),
        tokens=max(view.tokens_at(end) - view.tokens_at(start), 0),
        resolved=resolved,
    )
