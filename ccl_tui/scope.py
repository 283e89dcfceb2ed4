"""Which sessions a report covers: origins, agent, repository, kind and dates (light: imported by the UI)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class _Info(Protocol):
    repo: str
    origin: str
    started_at: str | None
    agent: str


#: Origins counted as user friction by default. Automated runs (exec, sub-agents, reviews) are reported
#: only when asked for, never silently mixed in.
USER_ORIGINS = ("interactive", "ide", "other")
ALL_ORIGINS = ("interactive", "ide", "exec", "subagent", "review", "other")
#: The agents whose sessions ccl-tui reads (``model.events.agent_of``), as named in reports and filters.
AGENTS = ("codex", "claude_code")
#: How the UI, reports and tasks name them.
AGENT_LABEL = {"codex": "Codex", "claude_code": "Claude Code"}


def agents_text(counts: dict[str, int]) -> str:
    """Sessions per agent ("Codex 3, Claude Code 1") once an agent other than Codex is in; "" otherwise."""
    if not set(counts) - {"codex"}:
        return ""
    return ", ".join(f"{AGENT_LABEL[a]} {counts[a]}" for a in AGENTS if a in counts)


@dataclass(frozen=True, slots=True)
class Scope:
    """Which sessions a report covers."""

    origins: tuple[str, ...] = USER_ORIGINS
    repo: str | None = None
    kind: str | None = None
    since: str | None = None  # ISO date/time; sessions started on/after it
    until: str | None = None  # sessions started before it
    agent: str | None = None  # codex | claude_code: sessions written by that agent only

    @property
    def is_default(self) -> bool:
        return self == Scope()

    def admits(self, info: _Info | None) -> bool:
        if info is None or info.origin not in self.origins:
            return False
        if self.repo and info.repo != self.repo:
            return False
        if self.agent and info.agent != self.agent:
            return False
        start = info.started_at or ""
        if self.since and start < self.since:
            return False
        return not (self.until and start >= self.until)

    def describe(self) -> str:
        parts = [f"origins: {', '.join(self.origins)}"]
        if self.agent:
            parts.append(f"agent: {self.agent}")
        if self.repo:
            parts.append(f"repo: {self.repo}")
        if self.kind:
            parts.append(f"kind: {self.kind}")
        if self.since:
            parts.append(f"since: {self.since}")
        if self.until:
            parts.append(f"until: {self.until}")
        return "; ".join(parts)


def scope_from(origin: str | None = None, **kw: str | None) -> Scope:
    """``origin`` may be one origin, a comma list, or "all"."""
    origins: tuple[str, ...]
    if not origin:
        origins = USER_ORIGINS
    elif origin == "all":
        origins = ALL_ORIGINS
    else:
        origins = tuple(o.strip() for o in origin.split(",") if o.strip())
    return Scope(origins=origins, **kw)
