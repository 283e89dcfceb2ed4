"""Signals: a friction or delight moment in one session, pointing at the exact events it rests on."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Polarity(StrEnum):
    FRICTION = "friction"
    DELIGHT = "delight"
    NOTE = "note"  # recorded, shown in transcripts, never ranked (an announced test-first failure, redaction)


class SignalKind(StrEnum):
    # friction
    COMMAND_FAILURE = "command_failure"
    DENIAL = "denial"  # a call refused: by the user, the approval guardian, a URL policy, or "already denied"
    APPROVAL_WAIT = "approval_wait"  # a call that waited minutes on a person before it ran or was refused
    CONTEXT_TRUNCATION = "context_truncation"
    PATCH_FAILURE = "patch_failure"
    TIMEOUT = "timeout"
    ERROR = "error"
    INTERRUPT = "interrupt"
    USER_PUSHBACK = "user_pushback"
    RETRY_LOOP = "retry_loop"
    # delight
    FAST_COMPLETION = "fast_completion"
    ZERO_DENIALS = "zero_denials"
    FIRST_ATTEMPT_SUCCESS = "first_attempt_success"
    POSITIVE_FEEDBACK = "positive_feedback"
    # notes
    EXPECTED_FAILURE = "expected_failure"  # a check the agent announced would fail (test first), later green
    UNVERIFIABLE = "unverifiable"  # content scrubbed by a log redactor: sentiment and success cannot be read


FRICTION_KINDS = (
    SignalKind.COMMAND_FAILURE,
    SignalKind.DENIAL,
    SignalKind.APPROVAL_WAIT,
    SignalKind.CONTEXT_TRUNCATION,
    SignalKind.PATCH_FAILURE,
    SignalKind.TIMEOUT,
    SignalKind.ERROR,
    SignalKind.INTERRUPT,
    SignalKind.USER_PUSHBACK,
    SignalKind.RETRY_LOOP,
)
DELIGHT_KINDS = (
    SignalKind.FAST_COMPLETION,
    SignalKind.ZERO_DENIALS,
    SignalKind.FIRST_ATTEMPT_SUCCESS,
    SignalKind.POSITIVE_FEEDBACK,
)


NOTE_KINDS = (SignalKind.EXPECTED_FAILURE, SignalKind.UNVERIFIABLE)


def polarity_of(kind: str) -> Polarity:
    if kind in DELIGHT_KINDS:
        return Polarity.DELIGHT
    return Polarity.NOTE if kind in NOTE_KINDS else Polarity.FRICTION


@dataclass(slots=True)
class Cost:
    """What a friction moment cost the user until it was resolved (or the session ended)."""

    turns: int = 0  # extra prompts the user had to send
    seconds: float = 0.0  # wall time spent
    tokens: int = 0  # tokens spent
    resolved: bool = False  # the same step later succeeded


@dataclass(slots=True)
class Signal:
    kind: str
    session_id: str
    evidence: list[int]  # event seq numbers; evidence[0] is the primary one
    turn: int
    severity: float  # 0..1
    signature: str  # normalized grouping key, e.g. "pytest | ModuleNotFoundError: httpx"
    detail: str  # short human-readable description (plain text)
    call_id: str | None = None  # Codex call id of the primary evidence, when it is a tool call/result
    timestamp: str | None = None
    cost: Cost = field(default_factory=Cost)
    source: str = "rule"  # "rule" or "model" (semantic layer, marked as model-derived)

    @property
    def polarity(self) -> str:
        return polarity_of(self.kind).value

    @property
    def seq(self) -> int:
        return self.evidence[0]


def signal_from_dict(d: dict[str, Any]) -> Signal:
    """A Signal from its ``dataclasses.asdict`` / orjson form (the cost as a nested object)."""
    cost = d.get("cost")
    return Signal(**{**d, "cost": Cost(**cost) if isinstance(cost, dict) else Cost()})


def snippet(text: str, width: int = 160) -> str:
    """The first line of untrusted text for a signal's detail: redacted whole *before* it is cut, so a secret
    is never left half visible by the cut, and stripped of control codes."""
    from ccl_tui.text.ansi import strip_control
    from ccl_tui.text.cut import shorten
    from ccl_tui.text.redact import redact  # compiled on first use: reading stored signals does not need it

    return shorten(strip_control(redact(text)).strip().split("\n", 1)[0], width)
