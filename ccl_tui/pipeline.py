"""The closed loop's core steps, shared by the CLI and the TUI: ingest -> detect -> rank.

Detection runs in a worker thread on its own SQLite connection and only for sessions whose events changed
since their signals were computed (or when the detector version or thresholds changed).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ccl_tui.config.settings import Settings, load_settings
from ccl_tui.issues.build import build_issues
from ccl_tui.model.issues import Issue, SessionInfo
from ccl_tui.model.signals import DELIGHT_KINDS, FRICTION_KINDS, Signal
from ccl_tui.scope import ALL_ORIGINS, USER_ORIGINS, Scope, scope_from
from ccl_tui.signals.worker import fingerprint, parse_and_detect
from ccl_tui.store import signals as sql
from ccl_tui.store.db import Store
from ccl_tui.store.ingest import IngestSummary
from ccl_tui.store.ingest import ingest as store_ingest
from ccl_tui.store.writer import connect


@dataclass(slots=True)
class DetectSummary:
    sessions_detected: int = 0
    signals: int = 0
    friction: int = 0
    delight: int = 0
    issues: int = 0
    detect_seconds: float = 0.0
    rank_seconds: float = 0.0
    per_kind: dict[str, int] = field(default_factory=dict)

    def add_ingest(self, ingested: IngestSummary) -> DetectSummary:
        """Count the signals an ingest detected next to its parser (stored with their events) as detected."""
        self.sessions_detected += ingested.sessions_detected
        for kind, n in ingested.signals_per_kind.items():
            self.per_kind[kind] = self.per_kind.get(kind, 0) + n
        self.signals += sum(ingested.signals_per_kind.values())
        self.friction = sum(v for k, v in self.per_kind.items() if k in FRICTION_KINDS)
        self.delight = sum(v for k, v in self.per_kind.items() if k in DELIGHT_KINDS)
        return self


BATCH = 100
__all__ = ["ALL_ORIGINS", "USER_ORIGINS", "DetectSummary", "Scope", "rank", "ranked_issues", "refresh", "scope_from"]


def detect_pending_sync(
    db_path: str, settings: Settings, progress: Callable[[int, int], None] | None = None
) -> DetectSummary:
    """Detect signals for changed sessions, then re-rank the default-scope issues. Sync: call in a thread."""
    con = connect(db_path)
    try:
        summary = DetectSummary()
        fp = fingerprint(settings)
        t0 = time.perf_counter()
        pending = sql.pending_sessions(con, fp)
        if pending:  # the detectors are imported when there is something to detect (not on a re-run)
            from ccl_tui.signals.detect import detect_session
        for i in range(0, len(pending), BATCH):
            detected = []
            for sid, origin in pending[i : i + BATCH]:
                events = sql.session_events(con, sid)
                sigs = detect_session(sid, events, settings.signals, origin)
                detected.append((sid, sigs, len(events)))
                summary.signals += len(sigs)
                for s in sigs:
                    kind = str(s.kind)
                    summary.per_kind[kind] = summary.per_kind.get(kind, 0) + 1
            sql.save_detections(con, detected, fp)
            if progress:
                progress(min(i + BATCH, len(pending)), len(pending))
        summary.sessions_detected = len(pending)
        summary.friction = sum(v for k, v in summary.per_kind.items() if k in FRICTION_KINDS)
        summary.delight = sum(v for k, v in summary.per_kind.items() if k in DELIGHT_KINDS)
        summary.detect_seconds = time.perf_counter() - t0
        t1 = time.perf_counter()
        # Re-rank only when the inputs changed: the TUI calls this every half second while loading.
        inputs = f"{sql.ranking_inputs(con)}|{hashlib.sha1(repr(asdict(settings.impact)).encode()).hexdigest()}"
        if sql.get_meta(con, "ranking_inputs") == inputs:
            summary.issues = sql.issue_count(con)
        else:
            issues = rank(sql.all_signals(con), sql.session_infos(con), settings, Scope())
            sql.save_ranking(con, issues, inputs)  # clusters from the last `analyze` survive a re-rank
            summary.issues = len(issues)
        summary.rank_seconds = time.perf_counter() - t1
        return summary
    finally:
        con.close()


def rank(signals: Iterable[Signal], infos: dict[str, SessionInfo], settings: Settings, scope: Scope) -> list[Issue]:
    """Issues for ``scope`` from stored signals (pure)."""
    chosen = [
        s for s in signals if scope.admits(infos.get(s.session_id)) and (scope.kind is None or s.kind == scope.kind)
    ]
    in_scope = {sid: i for sid, i in infos.items() if scope.admits(i)}
    return build_issues(chosen, in_scope, settings.impact)


async def ingest_and_detect(
    store: Store,
    paths: Iterable[Path | str] | None = None,
    settings: Settings | None = None,
    **options: Any,
) -> IngestSummary:
    """:func:`ccl_tui.store.ingest.ingest` with detection next to the parser: a file read whole has its
    signals computed in the same worker from the events in memory, and stored in the same transaction as
    them. :func:`refresh` then detects only what is left (continued files, duplicates) and ranks.
    ``options``: those of ``store.ingest.ingest`` (progress, workers, cancel)."""
    settings = settings or load_settings()
    extra = (settings.signals, fingerprint(settings))
    return await store_ingest(store, paths, parse=parse_and_detect, extra=extra, **options)


async def refresh(
    store: Store, settings: Settings | None = None, progress: Callable[[int, int], None] | None = None
) -> DetectSummary:
    """Bring signals and the ranked issues up to date with the events in the store.

    A read-only store is left as it is (the stored signals and ranking are what it shows; the store's
    ``readonly_note`` tells the user): nothing is detected or ranked, and the summary is empty."""
    if getattr(store, "readonly", False):
        return DetectSummary()
    settings = settings or load_settings()
    return await asyncio.to_thread(detect_pending_sync, str(store.path), settings, progress)


async def ranked_issues(store: Store, scope: Scope | None = None, settings: Settings | None = None) -> list[Issue]:
    """Ranked issues: the stored default ranking, or computed for another scope."""
    scope = scope or Scope()
    if scope.is_default:
        return await store.issues()
    settings = settings or load_settings()
    signals = await store.signals()
    infos = await store.session_infos()
    return await asyncio.to_thread(rank, signals, infos, settings, scope)
