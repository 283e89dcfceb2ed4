"""Ingest progress as the UI sees it (light: imported before any parsing code is)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class IngestProgress:
    files_total: int = 0
    files_done: int = 0
    bytes_total: int = 0
    bytes_done: int = 0
    sessions: int = 0
    events: int = 0
    malformed: int = 0
    elapsed: float = 0.0
    last_session_id: str | None = None

    @property
    def events_per_s(self) -> float:
        return self.events / self.elapsed if self.elapsed > 0 else 0.0
