"""Corpus-level figures for the overview and the guided demo, computed from the store."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ccl_tui.scope import USER_ORIGINS
from ccl_tui.store.db import Store


@dataclass(slots=True)
class Overview:
    sessions: int = 0
    events: int = 0
    files: int = 0
    malformed: int = 0
    repos: list[tuple[str, int]] = field(default_factory=list)  # most sessions first
    origins: dict[str, int] = field(default_factory=dict)
    first_session: str | None = None
    last_session: str | None = None
    user_sessions: int = 0  # sessions in the default (user-driven) scope
    user_sessions_with_friction: int = 0
    friction: dict[str, int] = field(default_factory=dict)  # signals per kind, all origins
    delight: dict[str, int] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)  # recorded, never ranked (expected failures, redaction)
    turns_lost: int = 0  # user scope
    minutes_lost: float = 0.0
    tokens_lost: int = 0

    @property
    def friction_share(self) -> float:
        return self.user_sessions_with_friction / self.user_sessions if self.user_sessions else 0.0

    @property
    def signals(self) -> int:
        return sum(self.friction.values()) + sum(self.delight.values())


async def overview(store: Store) -> Overview:
    counts = await store.counts()
    infos = await store.session_infos()
    ov = Overview(
        sessions=counts["sessions"], events=counts["events"], files=counts["files"], malformed=counts["malformed"]
    )
    ov.repos = Counter(i.repo for i in infos.values()).most_common()
    ov.origins = dict(Counter(i.origin for i in infos.values()).most_common())
    starts = sorted(i.started_at for i in infos.values() if i.started_at)
    ov.first_session, ov.last_session = (starts[0], starts[-1]) if starts else (None, None)
    ov.user_sessions = sum(1 for i in infos.values() if i.origin in USER_ORIGINS)
    ov.user_sessions_with_friction = await store.sessions_with("friction", USER_ORIGINS)
    for kind, polarity, n, _, _, _, _ in await store.signal_stats():
        {"friction": ov.friction, "delight": ov.delight}.get(polarity, ov.notes)[kind] = n
    for _, polarity, _, _, turns, seconds, tokens in await store.signal_stats(USER_ORIGINS):
        if polarity == "friction":
            ov.turns_lost += turns or 0
            ov.minutes_lost += (seconds or 0) / 60
            ov.tokens_lost += tokens or 0
    return ov
