"""The TUI's single door to the core: loading, queries and actions, as plain dataclasses.

Screens never run SQL or parse files; they ask the hub, which calls ``ccl_tui.pipeline``, ``ccl_tui.store``,
``ccl_tui.stats`` and ``ccl_tui.tasks``. Everything here is async and runs on the app's event loop (heavy
work happens in the core's worker threads and processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccl_tui.scope import Scope
from ccl_tui.store.progress import IngestProgress

# The core is imported when the hub first needs it, not at startup: the first frame must not wait for it.
if TYPE_CHECKING:
    from ccl_tui.config.settings import Settings
    from ccl_tui.issues.trend import ChangePoint
    from ccl_tui.model.events import Event
    from ccl_tui.model.issues import Issue
    from ccl_tui.model.results import Fix, Week
    from ccl_tui.model.signals import Signal
    from ccl_tui.pipeline import DetectSummary
    from ccl_tui.results.api import ImprovementReport as ResultsReport
    from ccl_tui.semantic.analyze import AnalyzeSummary
    from ccl_tui.semantic.cluster import Cluster
    from ccl_tui.stats import Overview
    from ccl_tui.store.db import SessionSummary, Store
    from ccl_tui.store.ingest import IngestSummary
    from ccl_tui.tasks.model import TaskResult


@dataclass(slots=True)
class LoadState:
    phase: str = "starting"  # starting | ingesting | detecting | ready | error
    progress: IngestProgress = field(default_factory=IngestProgress)
    summary: IngestSummary | None = None
    detected: DetectSummary | None = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    refreshes: int = 0  # detection passes so far (screens refill when it changes)

    @property
    def loading(self) -> bool:
        return self.phase in ("starting", "ingesting", "detecting")

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


@dataclass(frozen=True, slots=True)
class Source:
    """What the app reads: rollout paths, the database, and a note shown to the user about the choice."""

    paths: tuple[Path, ...]
    db: Path
    note: str | None = None
    fresh_db: bool = False  # start from an empty database (the guided demo shows loading live)
    jobs: tuple[Path, ...] = ()  # Harbor job folders imported after loading (the demo corpus ships two runs)
    generated: bool = False  # the bundled demo corpus (generated sessions), not the user's own logs


def _remove_db(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(str(db) + suffix).unlink()


class Hub:
    #: Seconds between live detection passes while ingest is still running (at least).
    LIVE_REFRESH_S = 0.5
    #: ...and at least this many times as long as the last pass took.
    LIVE_REFRESH_SHARE = 3.0

    def __init__(self, source: Source) -> None:
        self.source = source
        self.state = LoadState()
        self._store: Store | None = None
        self._issues: dict[Scope, list[Issue]] = {}
        self._issues_generation = 0  # bumped by clear_issue_cache
        self._settings: Settings | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the store is not open yet")
        return self._store

    @property
    def settings(self) -> Settings:
        """Thresholds and weights in force (the user's config file over the defaults)."""
        if self._settings is None:
            from ccl_tui.config.settings import load_settings

            self._settings = load_settings()
        return self._settings

    @property
    def is_open(self) -> bool:
        return self._store is not None

    async def open(self) -> None:
        from ccl_tui.store.db import Store

        if self._store is None:
            if self.source.fresh_db:
                await asyncio.to_thread(_remove_db, self.source.db)
            self._store = await Store.open(self.source.db)

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()
            self._store = None

    async def load(self, on_change: Callable[[LoadState], Any]) -> LoadState:
        """Ingest the sources and detect signals, reporting progress; detection also runs while ingest
        is still going so the screens fill in live."""
        st = self.state
        try:
            await self.open()
            if self.store.readonly:  # nothing can be ingested or ranked: show what the database holds
                st.phase = "ready"
                on_change(st)
                return st
            st.phase = "ingesting"
            on_change(st)
            last_push = 0.0

            def on_progress(p: IngestProgress) -> None:
                nonlocal last_push
                st.progress = p
                now = time.monotonic()
                if now - last_push > 0.1 or p.files_done == p.files_total:
                    last_push = now
                    on_change(st)

            from ccl_tui.pipeline import ingest_and_detect

            job = asyncio.ensure_future(
                ingest_and_detect(self.store, list(self.source.paths), self.settings, progress=on_progress)
            )
            interval = self.LIVE_REFRESH_S
            while not job.done():
                await asyncio.wait({job}, timeout=interval)
                if not job.done():
                    t0 = time.monotonic()
                    await self._detect(on_change)
                    # Live passes re-rank everything loaded so far, which grows with the corpus: keep them
                    # to about a quarter of the wall time so they do not slow the ingest they report on.
                    interval = max(self.LIVE_REFRESH_S, self.LIVE_REFRESH_SHARE * (time.monotonic() - t0))
            st.summary = job.result()
            st.phase = "detecting"
            on_change(st)
            await self._detect(on_change)
            await self._import_jobs()
            st.phase = "ready"
        except Exception as exc:  # shown to the user; the app keeps running on whatever loaded
            import sqlite3

            from ccl_tui.store.db import StoreError, database_error

            st.phase = "error"
            if isinstance(exc, StoreError | sqlite3.Error):  # one line that names the database
                st.error = str(database_error(self.source.db, exc))
            else:
                st.error = f"{type(exc).__name__}: {exc}"
        on_change(st)
        return st

    async def _import_jobs(self) -> None:
        from ccl_tui.results.api import import_jobs

        for path in self.source.jobs:
            if path.is_dir():
                # a bundled run that cannot be imported must not cost the user the sessions that loaded
                with contextlib.suppress(ValueError, OSError):
                    await import_jobs(self.store, path)

    async def _detect(self, on_change: Callable[[LoadState], Any]) -> None:
        from ccl_tui.pipeline import refresh

        d = await refresh(self.store, self.settings)
        self.clear_issue_cache()
        st = self.state
        if st.detected is None or d.sessions_detected:
            st.detected = d
        st.refreshes += 1
        on_change(st)

    def clear_issue_cache(self) -> None:
        """Forget the rankings read so far (per scope), so the next :meth:`issues` reads them from the store
        again: after a detection pass, a clustering run, or when the user asks to reload."""
        self._issues.clear()
        self._issues_generation += 1

    # ---------------------------------------------------------------- queries
    async def issues(self, scope: Scope | None = None) -> list[Issue]:
        from ccl_tui.pipeline import ranked_issues

        scope = scope or Scope()
        cached = self._issues.get(scope)
        if cached is not None:
            return cached
        generation = self._issues_generation
        issues = await ranked_issues(self.store, scope, self.settings)
        # A read that began before the cache was cleared (a new ranking landed meanwhile) is returned to its
        # caller but not kept: the next caller reads the new ranking.
        if generation == self._issues_generation:
            self._issues[scope] = issues
        return issues

    async def issue(self, issue_id: str, scope: Scope | None = None) -> Issue | None:
        return next((i for i in await self.issues(scope) if i.id == issue_id), None)

    async def overview(self) -> Overview:
        from ccl_tui.stats import overview

        return await overview(self.store)

    async def change_points(self, scope: Scope | None = None) -> list[ChangePoint]:
        """Change points: issues whose rate fell significantly, found from the data alone."""
        from ccl_tui.issues.trend import find_change_points

        scope = scope or Scope()
        issues = await self.issues(scope)
        infos = await self.store.session_infos()
        return find_change_points(issues, infos, origins=scope.origins)

    async def weekly(self, issue_id: str, scope: Scope | None = None) -> list[Week]:
        """Per week: the issue's sessions at risk (same repositories and origins) and how many it hit."""
        from ccl_tui.results.recurrence import weeks

        scope = scope or Scope()
        issue = await self.issue(issue_id, scope)
        return weeks(issue, await self.store.session_infos(), origins=scope.origins) if issue else []

    async def results(self, scope: Scope | None = None) -> ResultsReport:
        """The closed-loop report: imported Harbor runs, and per issue with trials or a fix mark its pass rate
        per run, the change between the oldest and newest run, recurrence before/after the fix, weekly rates."""
        from ccl_tui.results.api import improvement

        scope = scope or Scope()
        return await improvement(self.store, await self.issues(scope), scope)

    async def issue_results(self, issue_ids: list[str], scope: Scope | None = None) -> ResultsReport:
        """The same report for these issues, whether or not they have results or a fix yet."""
        from ccl_tui.results.api import improvement

        scope = scope or Scope()
        return await improvement(self.store, await self.issues(scope), scope, issue_ids=issue_ids, only_tracked=False)

    async def mark_fix(self, issue_id: str, day: str | None = None, note: str = "") -> Fix:
        """Record the first day with the fix (YYYY-MM-DD; today when None). Raises ValueError on a bad date."""
        from ccl_tui.results.api import mark_fix

        return await mark_fix(self.store, issue_id, day, note)

    async def clear_fix(self, issue_id: str) -> bool:
        from ccl_tui.results.api import clear_fix

        return await clear_fix(self.store, issue_id)

    async def task_files(self, task_dir: Path) -> list[tuple[tuple[str, ...], int | None]]:
        """A written task's tree as (path parts, size; None for folders), folders before their files."""

        def walk(folder: Path, prefix: tuple[str, ...]) -> list[tuple[tuple[str, ...], int | None]]:
            out: list[tuple[tuple[str, ...], int | None]] = []
            for p in sorted(folder.iterdir(), key=lambda x: (x.is_file(), x.name)):
                if p.is_dir():
                    out.append(((*prefix, p.name), None))
                    out.extend(walk(p, (*prefix, p.name)))
                else:
                    out.append(((*prefix, p.name), p.stat().st_size))
            return out

        return await asyncio.to_thread(walk, task_dir, ())

    async def task_text(self, task_dir: Path, name: str, limit: int = 20_000) -> str:
        """A task file's text for display, control codes stripped."""
        from ccl_tui.text.ansi import strip_control

        def read() -> str:
            try:
                return strip_control((task_dir / name).read_text(encoding="utf-8", errors="replace")[:limit])
            except OSError as exc:
                return f"({name}: {exc.strerror})"

        return await asyncio.to_thread(read)

    def tasks_written(self) -> int:
        """Harbor task directories in the default output folder."""
        from ccl_tui.locations import tasks_dir

        root = tasks_dir()
        return sum(1 for p in root.glob("*/task.toml")) if root.is_dir() else 0

    async def sessions(self, ids: list[str]) -> list[SessionSummary]:
        return await self.store.sessions_by_ids(ids)

    async def session(self, session_id: str) -> SessionSummary | None:
        return await self.store.session(session_id)

    async def events(self, session_id: str) -> list[Event]:
        return await self.store.events(session_id)

    async def signals(self, session_id: str) -> list[Signal]:
        return await self.store.signals(session_id)

    async def repos_and_agents(self) -> tuple[list[str], list[str]]:
        """The repositories and the agents (codex, claude_code) of the stored sessions, from one read."""
        infos = await self.store.session_infos()
        return sorted({i.repo for i in infos.values()}), sorted({i.agent for i in infos.values()})

    async def clusters(self) -> list[Cluster]:
        """Issue clusters from the last ``analyze`` (singletons for issues not analyzed yet)."""
        from ccl_tui.semantic.analyze import clusters

        return await clusters(self.store, self.settings)

    # ---------------------------------------------------------------- actions
    async def analyze(self, progress: Callable[[str, int, int], Any] | None = None) -> AnalyzeSummary:
        """Cluster the issues with the embedder the environment allows (offline unless a key is set)."""
        from ccl_tui.semantic.analyze import analyze

        summary = await analyze(self.store, progress=progress, settings=self.settings)
        self.clear_issue_cache()
        self.state.refreshes += 1
        return summary

    async def write_task(self, issue_id: str, *, force: bool = True) -> TaskResult:
        """Write the Harbor task for an issue; returns the core's TaskResult."""
        from ccl_tui.tasks.api import write_task_for_issue

        return await write_task_for_issue(self.store, issue_id, force=force)

    async def demo_task(self, issues: list[Issue], look: int = 10) -> tuple[Issue, TaskResult, list[tuple[Issue, str]]]:
        """The demo's task: the highest-ranked of the first ``look`` issues whose task is a proven fix (planned
        first, without writing), written; else the top issue's. Returns (issue, TaskResult, passed over: the
        higher-ranked issues with why their task is not a proven fix)."""
        from ccl_tui.tasks import contract
        from ccl_tui.tasks.api import plan_for_issue, write_task_for_issue
        from ccl_tui.tasks.model import TaskError

        passed: list[tuple[Issue, str]] = []
        chosen = issues[0]
        for issue in issues[:look]:
            try:
                plan = await plan_for_issue(self.store, issue)
            except TaskError as exc:
                passed.append((issue, str(exc)))
                continue
            c = plan.contract
            if c is not None and c.cls == contract.PROVEN_FIX:
                chosen = issue
                break
            passed.append((issue, f"{c.label()}: {c.reason}" if c is not None else "no contract"))
        else:
            passed = []
        return chosen, await write_task_for_issue(self.store, chosen.id, force=True), passed

    async def write_task_for_signal(self, session_id: str, seq: int) -> TaskResult:
        from ccl_tui.tasks.api import write_task_for_signal

        return await write_task_for_signal(self.store, session_id, seq)
