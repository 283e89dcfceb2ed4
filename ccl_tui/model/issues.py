"""Issues: the same friction (one signature) grouped across sessions, with a transparent impact score."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class SessionInfo:
    """What ranking needs to know about a session (from the store's sessions table)."""

    repo: str
    origin: str
    started_at: str | None
    agent: str = "codex"  # which agent wrote the session: codex | claude_code


@dataclass(slots=True)
class Impact:
    """impact = sessions x severity x cost x recency. Every factor is kept so the rank can be explained."""

    sessions: int
    severity: float  # mean over affected sessions of the worst signal's severity (0..1)
    cost: float  # mean cost per affected session, in turn equivalents (>= 1)
    recency: float  # 0.25..1: halves every half-life since the issue was last seen
    impact: float
    turns_lost: float = 0.0  # mean extra prompts per affected session
    minutes_lost: float = 0.0
    tokens_lost: float = 0.0
    unresolved: float = 0.0  # share of affected sessions where the failing step never succeeded
    days_since_last: float | None = 0.0  # None: no time known for any occurrence

    def formula(self) -> str:
        return (
            f"{self.sessions} sessions x {self.severity:.2f} severity x {self.cost:.2f} cost"
            f" x {self.recency:.2f} recency = {self.impact:.1f}"
        )

    def explain(self) -> list[str]:
        """Why this rank, factor by factor, in plain words."""
        return [
            f"sessions  {self.sessions}: distinct sessions where it happened",
            f"severity  {self.severity:.2f}: how bad the worst occurrence per session was (0-1)",
            f"cost      {self.cost:.2f}: turn equivalents lost per session = 1 + {self.turns_lost:.1f} extra prompts"
            f" + {self.minutes_lost:.1f} min + {self.tokens_lost / 1000:.0f}k tokens"
            f"; unresolved in {self.unresolved:.0%} of sessions",
            f"recency   {self.recency:.2f}: "
            + (
                f"last seen {self.days_since_last:.1f} days before the newest session"
                if self.days_since_last is not None
                else "no time recorded: counted as old"
            ),
            f"impact    {self.formula()}",
        ]


@dataclass(slots=True)
class Evidence:
    session_id: str
    seq: int
    kind: str
    detail: str
    call_id: str | None = None
    timestamp: str | None = None
    severity: float = 0.0


@dataclass(slots=True)
class Issue:
    id: str  # stable: derived from the signature, the same across runs and machines
    signature: str
    kind: str  # dominant signal kind
    title: str
    impact: Impact
    occurrences: int
    first_seen: str | None
    last_seen: str | None
    repos: list[str] = field(default_factory=list)
    origins: dict[str, int] = field(default_factory=dict)
    agents: dict[str, int] = field(default_factory=dict)  # affected sessions per agent (codex, claude_code)
    kinds: dict[str, int] = field(default_factory=dict)
    session_ids: list[str] = field(default_factory=list)
    representative: Evidence | None = None
    evidence: list[Evidence] = field(default_factory=list)  # most severe first, one per session
    rank: int = 0
    cluster_id: str | None = None
