"""Snapshot tests (pytest-textual-snapshot) of the main screens at a fixed terminal size.

Frames are deterministic: the data is the generated demo corpus, recency is relative to the newest
session, the only rate on screen is pinned, and the task path lives in a fixed data dir.
Update after reviewing snapshot_report.html: pytest tests/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.pilot import Pilot

from ccl_tui.store.db import Store
from ccl_tui.store.ingest import IngestProgress
from ccl_tui.tui.screens.demo import DemoScreen
from ccl_tui.tui.screens.transcript import TranscriptScreen
from ccl_tui.tui.widgets.flow import FlowDiagram
from tests.tui_support import app_for, copy_db, settle, wait_loaded

SIZE = (130, 40)


@pytest.fixture
def db(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CCL_TUI_DATA_DIR", "/tmp/ccl-tui-snapshots")
    monkeypatch.setattr(IngestProgress, "events_per_s", property(lambda self: 12345.0))
    return copy_db(demo_db, tmp_path / "demo.sqlite")


def test_issues_screen(snap_compare, db: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app_for(db), terminal_size=SIZE, run_before=wait_loaded)


def test_issue_screen(snap_compare, db: Path) -> None:  # type: ignore[no-untyped-def]
    async def open_issue(pilot: Pilot) -> None:
        await wait_loaded(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)

    assert snap_compare(app_for(db), terminal_size=SIZE, run_before=open_issue)


def test_transcript_screen(snap_compare, db: Path) -> None:  # type: ignore[no-untyped-def]
    async def open_transcript(pilot: Pilot) -> None:
        await wait_loaded(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, TranscriptScreen)

    assert snap_compare(app_for(db), terminal_size=SIZE, run_before=open_transcript)


def test_help_screen(snap_compare, db: Path) -> None:  # type: ignore[no-untyped-def]
    async def open_help(pilot: Pilot) -> None:
        await wait_loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app_for(db), terminal_size=SIZE, run_before=open_help)


@pytest.mark.parametrize("stage", range(7))
def test_demo_stage(snap_compare, db: Path, stage: int) -> None:  # type: ignore[no-untyped-def]
    async def go(pilot: Pilot) -> None:
        await wait_loaded(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, DemoScreen)
        await pilot.press(str(stage + 1))
        await settle(pilot)
        if screen._flow_timer is not None:
            screen._flow_timer.pause()
        screen.query_one(FlowDiagram).active = 0
        await pilot.pause()

    assert snap_compare(app_for(db, demo=True), terminal_size=SIZE, run_before=go)


def test_high_contrast_theme(snap_compare, db: Path) -> None:  # type: ignore[no-untyped-def]
    async def go(pilot: Pilot) -> None:
        await wait_loaded(pilot)
        await pilot.press("4")
        await settle(pilot)

    assert snap_compare(app_for(db, demo=True, theme="ccl-high-contrast"), terminal_size=SIZE, run_before=go)


def test_improvement_screen(snap_compare, db: Path) -> None:  # type: ignore[no-untyped-def]
    """The demo's fixed issue with its fix marked and two Harbor runs of its task imported."""
    from ccl_tui.issues.build import issue_id
    from ccl_tui.results.api import import_jobs, mark_fix
    from ccl_tui.tui.screens.improvement import ImprovementScreen

    async def track() -> None:
        store = await Store.open(db)
        try:
            jobs = Path(__file__).parent / "fixtures" / "harbor_jobs"
            for job in sorted(p for p in jobs.iterdir() if p.is_dir()):
                await import_jobs(store, job)
            await mark_fix(
                store, issue_id("pytest | ModuleNotFoundError: httpx"), "2026-10-26", "pinned httpx"
            )
        finally:
            await store.close()

    asyncio.run(track())

    async def open_improvement(pilot: Pilot) -> None:
        await wait_loaded(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ImprovementScreen)

    assert snap_compare(app_for(db), terminal_size=SIZE, run_before=open_improvement)
