"""Delight detectors: where a session went right. They run after the friction detectors.

Delight is a claim about the whole session ("no friction", "never refused"), so it is made only where the
session's text can be read: a session whose prompts or results a log scrubber redacted gets an
``unverifiable`` note instead, and no delight."""

from __future__ import annotations

from ccl_tui.config.settings import SignalThresholds
from ccl_tui.model.events import EventKind
from ccl_tui.model.signals import Signal, snippet
from ccl_tui.model.signals import SignalKind as S
from ccl_tui.signals.feedback import classify_feedback
from ccl_tui.signals.friction import failed, is_timeout
from ccl_tui.signals.registry import DETECTORS, detector
from ccl_tui.signals.session_view import SessionView

K = EventKind
FRICTION = (
    S.COMMAND_FAILURE,
    S.DENIAL,
    S.APPROVAL_WAIT,
    S.CONTEXT_TRUNCATION,
    S.PATCH_FAILURE,
    S.TIMEOUT,
    S.ERROR,
    S.INTERRUPT,
    S.USER_PUSHBACK,
    S.RETRY_LOOP,
)


def _signal(
    view: SessionView,
    kind: str,
    evidence: list[int],
    strength: float,
    signature: str,
    detail: str,
    call_id: str | None = None,
) -> Signal:
    ev = view.by_seq[evidence[0]]
    return Signal(
        kind=str(kind),
        session_id=view.session_id,
        evidence=evidence,
        turn=ev.turn,
        severity=strength,
        signature=signature,
        detail=detail[:240],
        call_id=call_id,
        timestamp=ev.timestamp,
    )


def has_friction(view: SessionView, th: SignalThresholds) -> bool:
    if view.friction is not None:  # already found by detect_session
        return bool(view.friction)
    return any(DETECTORS[k](view, th) for k in FRICTION if k in DETECTORS)


@detector(S.UNVERIFIABLE)
def unverifiable(view: SessionView, th: SignalThresholds) -> list[Signal]:
    """A note on sessions whose text was scrubbed (``[REDACTED…]`` placeholders): structure and times are
    true, words are not, so neither delight nor the user's sentiment is claimed for them."""
    redacted = view.redacted_events
    if not redacted:
        return []
    readable = sum(
        1 for e in view.events if e.kind in (K.USER_MESSAGE, K.ASSISTANT_MESSAGE, K.TOOL_OUTPUT, K.PATCH_APPLY)
    )
    return [
        _signal(
            view,
            S.UNVERIFIABLE,
            [redacted[0].seq],
            0.0,
            "note | redacted",
            f"{len(redacted)} of {readable} prompts, answers and results redacted by a log scrubber: "
            "feedback and outcomes there cannot be verified",
        )
    ]


def _completion(view: SessionView) -> int | None:
    """Seq of the event that shows the last turn completed: task_complete or a final assistant answer."""
    for e in reversed(view.events):
        if e.kind == K.TURN_ABORTED:
            return None
        if e.kind == K.TURN_COMPLETED:
            return e.seq if e.status != "failed" else None
        if e.kind == K.ASSISTANT_MESSAGE and e.status in (None, "final_answer"):
            return e.seq
        if e.kind == K.USER_MESSAGE:
            return None  # the user spoke last: nothing completed after it
    return None


@detector(S.FAST_COMPLETION)
def fast_completion(view: SessionView, th: SignalThresholds) -> list[Signal]:
    n = len(view.prompts)
    if n == 0 or n > th.fast_completion_max_turns or view.unverifiable:
        return []
    done = _completion(view)
    if done is None or has_friction(view, th):
        return []
    return [
        _signal(
            view,
            S.FAST_COMPLETION,
            [done],
            th.severity.fast_completion_one_prompt if n == 1 else th.severity.fast_completion,
            "delight | fast completion",
            f"task completed in {n} prompt(s) without friction",
        )
    ]


@detector(S.ZERO_DENIALS)
def zero_denials(view: SessionView, th: SignalThresholds) -> list[Signal]:
    """A session that worked under an approval policy, made real use of tools, and was never refused."""
    calls = view.calls
    if len(calls) < th.zero_denials_min_calls or view.unverifiable or any(c.denial is not None for c in calls):
        return []
    policies = {e.data.get("approval_policy") for e in view.events if e.kind == K.TURN_CONTEXT}
    if policies and policies <= {"never"}:
        return []  # nothing could have been denied
    if any(e.kind == K.TURN_ABORTED for e in view.events):
        return []
    escalations = sum(1 for c in calls if c.call is not None and c.call.data.get("escalated"))
    last = calls[-1]
    detail = f"{len(calls)} tool call(s), none denied"
    if escalations:
        detail += f" ({escalations} escalation request(s) approved)"
    return [
        _signal(
            view,
            S.ZERO_DENIALS,
            [last.evidence_seq],
            th.severity.zero_denials_escalated if escalations else th.severity.zero_denials,
            "delight | zero denials",
            detail,
        )
    ]


@detector(S.FIRST_ATTEMPT_SUCCESS)
def first_attempt_success(view: SessionView, th: SignalThresholds) -> list[Signal]:
    """At most one per session: the first verification run passed; without any verification run, the
    first patch applied."""
    if view.unverifiable:
        return []
    verify = next((c for c in view.calls if c.is_verification and c.ok is not None and c.denial is None), None)
    if verify is not None:
        if not verify.ok or is_timeout(verify):
            return []
        return [
            _signal(
                view,
                S.FIRST_ATTEMPT_SUCCESS,
                [verify.evidence_seq, verify.first.seq],
                th.severity.first_try_verification,
                f"first try | {verify.program}",
                f"first run of `{snippet(verify.command or verify.program, 60)}` passed",
                verify.call_id,
            )
        ]
    patch = next((c for c in view.calls if c.is_patch and c.ok is not None and c.denial is None), None)
    if patch is not None and patch.ok and not failed(patch):
        return [
            _signal(
                view,
                S.FIRST_ATTEMPT_SUCCESS,
                [patch.evidence_seq, patch.first.seq],
                th.severity.first_try_patch,
                f"first try | {patch.program or 'apply_patch'}",  # Claude Code's edits: Edit, Write...
                "first patch applied cleanly"
                if patch.program in ("", "apply_patch")
                else f"first {patch.program} applied cleanly",
                patch.call_id,
            )
        ]
    return []


@detector(S.POSITIVE_FEEDBACK)
def positive_feedback(view: SessionView, th: SignalThresholds) -> list[Signal]:
    out = []
    if view.unverifiable:
        return []
    for p in view.prompts:
        fb = classify_feedback(p.text) if p.turn > 1 else None
        if fb is not None and fb.category == "praise":
            last = p is view.prompts[-1]
            out.append(
                _signal(
                    view,
                    S.POSITIVE_FEEDBACK,
                    [p.seq],
                    th.severity.praise_at_end if last else th.severity.praise,
                    "delight | positive feedback",
                    f"user: {snippet(p.text, 160)}",
                )
            )
    return out
