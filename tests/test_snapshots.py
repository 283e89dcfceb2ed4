"""Snapshot tests (pytest-textual-snapshot) of the main screens, at 80x24 and 160x48 for the demo stages,
the triage screens and `ccl-tui sessions` (what a newcomer's terminal and a presenter's screen show).

Frames are deterministic: the data is the generated demo corpus, recency is relative to the newest
session, the only rate on screen is pinned, and the task path lives in a fixed data dir.
Update after reviewing snapshot_report.html: pytest tests/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import asyncio
import re
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
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]


@pytest.fixture
def db(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CCL_TUI_DATA_DIR", "/tmp/ccl-tui-snapshots")
    monkeypatch.setattr(IngestProgress, "events_per_s", property(lambda self: 12345.0))
    return copy_db(demo_db, tmp_path / "demo.sqlite")


@pytest.mark.parametrize("size", SIZES)
def test_issues_screen(snap_compare, db: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app_for(db), terminal_size=size, run_before=wait_loaded)


@pytest.mark.parametrize("size", SIZES)
def test_issue_screen(snap_compare, db: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def open_issue(pilot: Pilot) -> None:
        await wait_loaded(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)

    assert snap_compare(app_for(db), terminal_size=size, run_before=open_issue)


@pytest.mark.parametrize("size", SIZES)
def test_transcript_screen(snap_compare, db: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def open_transcript(pilot: Pilot) -> None:
        await wait_loaded(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, TranscriptScreen)

    assert snap_compare(app_for(db), terminal_size=size, run_before=open_transcript)


def test_help_screen(snap_compare, db: Path) -> None:  # type: ignore[no-untyped-def]
    async def open_help(pilot: Pilot) -> None:
        await wait_loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app_for(db), terminal_size=SIZE, run_before=open_help)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("stage", range(7))
def test_demo_stage(snap_compare, db: Path, stage: int, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
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

    assert snap_compare(app_for(db, demo=True), terminal_size=size, run_before=go)


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
            await mark_fix(store, issue_id("pytest | ModuleNotFoundError: httpx"), "2026-10-26", "pinned httpx")
        finally:
            await store.close()

    asyncio.run(track())

    async def open_improvement(pilot: Pilot) -> None:
        await wait_loaded(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ImprovementScreen)

    assert snap_compare(app_for(db), terminal_size=SIZE, run_before=open_improvement)


@pytest.mark.parametrize("width", [80, 160])
def test_sessions_listing(db: Path, width: int, snapshot, capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """`ccl-tui sessions` as a terminal of that width prints it: no column is cut mid-value except the repo's."""
    from ccl_tui.cli import main

    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.setenv("LINES", "48")
    assert main(["sessions", "--db", str(db), "--limit", "12"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines and max(len(line) for line in lines) <= width
    rows = lines[1:-1]
    assert len(rows) == 12 and all(re.match(r"^[0-9a-f-]{13,}  +\d{4}-\d\d-\d\d \d\d:\d\d  ", r) for r in rows), out
    if width >= 160:
        assert "interactive" in out or "exec" in out  # the origin column is there when it fits
    short_id = rows[0].split()[0]
    assert main(["show", "--db", str(db), short_id]) == 0  # the id shown is one `show` takes
    capsys.readouterr()
    assert out == snapshot
