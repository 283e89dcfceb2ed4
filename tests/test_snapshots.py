"""Snapshot tests (pytest-textual-snapshot) of the main screens, at 80x24 and 160x48 for the demo stages,
the triage screens and `ccl-tui sessions` (what a newcomer's terminal and a presenter's screen show); and at
130x40 the help, clusters, fix dialog, command palette, the light and high-contrast themes, and the loading
(held at 40%), empty (no sessions) and error (a database that is not one) states.

Frames are deterministic: the data is the generated demo corpus, recency is relative to the newest
session, the only rate on screen is pinned, and the task path lives in a fixed data dir.
Update after reviewing snapshot_report.html: pytest tests/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from ccl_tui.store.db import Store
from ccl_tui.store.ingest import IngestProgress
from ccl_tui.tui.app import CclApp
from ccl_tui.tui.screens.clusters import ClustersScreen
from ccl_tui.tui.screens.demo import DemoScreen
from ccl_tui.tui.screens.transcript import TranscriptScreen
from ccl_tui.tui.widgets.flow import FlowDiagram
from ccl_tui.tui.widgets.score import ScoreBreakdown
from tests.tui_support import app_for, copy_db, settle, wait_loaded

SIZE = (130, 40)
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]


@pytest.fixture
def db(demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CCL_TUI_DATA_DIR", "/tmp/ccl-tui-snapshots")
    monkeypatch.setattr(IngestProgress, "events_per_s", property(lambda self: 12345.0))
    return copy_db(demo_db, tmp_path / "demo.sqlite")


@pytest.mark.parametrize("size", SIZES)
def test_issues_screen(snap_compare: Callable[..., bool], db: Path, size: tuple[int, int]) -> None:
    assert snap_compare(app_for(db), terminal_size=size, run_before=wait_loaded)


@pytest.mark.parametrize("size", SIZES)
def test_issue_screen(snap_compare: Callable[..., bool], db: Path, size: tuple[int, int]) -> None:
    async def open_issue(pilot: Pilot) -> None:
        await wait_loaded(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)

    assert snap_compare(app_for(db), terminal_size=size, run_before=open_issue)


@pytest.mark.parametrize("size", SIZES)
def test_transcript_screen(snap_compare: Callable[..., bool], db: Path, size: tuple[int, int]) -> None:
    async def open_transcript(pilot: Pilot) -> None:
        await wait_loaded(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, TranscriptScreen)

    assert snap_compare(app_for(db), terminal_size=size, run_before=open_transcript)


def test_help_screen(snap_compare: Callable[..., bool], db: Path) -> None:
    async def open_help(pilot: Pilot) -> None:
        await wait_loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app_for(db), terminal_size=SIZE, run_before=open_help)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("stage", range(7))
def test_demo_stage(snap_compare: Callable[..., bool], db: Path, stage: int, size: tuple[int, int]) -> None:
    async def go(pilot: Pilot) -> None:
        await wait_loaded(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, DemoScreen)
        await pilot.press(str(stage + 1))
        await settle(pilot)
        flow = screen.query_one(FlowDiagram)
        flow.playing = False  # a still frame: the highlight rests on the first step
        flow.active = 0
        await pilot.pause()

    assert snap_compare(app_for(db, demo=True), terminal_size=size, run_before=go)


def test_high_contrast_theme(snap_compare: Callable[..., bool], db: Path) -> None:
    async def go(pilot: Pilot) -> None:
        await wait_loaded(pilot)
        await pilot.press("4")
        await settle(pilot)

    assert snap_compare(app_for(db, demo=True, theme="ccl-high-contrast"), terminal_size=SIZE, run_before=go)


def test_improvement_screen(snap_compare: Callable[..., bool], db: Path) -> None:
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
def test_sessions_listing(
    db: Path,
    width: int,
    snapshot: SnapshotAssertion,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
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


# ------------------------------------------------------------------------------------- more screens and states


def _still_inputs(pilot: Pilot) -> None:
    """A still frame: no blinking text cursor in any input on screen."""
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False


def test_clusters_screen(
    snap_compare: Callable[..., bool], db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`c` from the issues list, after `ccl-tui analyze` grouped the look-alike issues (offline embedder)."""
    from ccl_tui.semantic.analyze import analyze

    monkeypatch.setenv("CCL_TUI_DATA_DIR", str(tmp_path / "data"))  # the vector store: private to this test

    async def cluster() -> None:
        store = await Store.open(db)
        try:
            await analyze(store, embedder="local")
        finally:
            await store.close()

    asyncio.run(cluster())

    async def open_clusters(pilot: Pilot) -> None:
        await wait_loaded(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ClustersScreen)

    assert snap_compare(app_for(db), terminal_size=SIZE, run_before=open_clusters)


def test_fix_dialog(snap_compare: Callable[..., bool], db: Path) -> None:
    """`f` on the improvement screen: the fix dialog, prefilled with the change point found in the data."""
    from ccl_tui.tui.screens.improvement import FixDialog, ImprovementScreen

    async def open_dialog(pilot: Pilot) -> None:
        await wait_loaded(pilot)
        await pilot.press("i")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ImprovementScreen) and screen.loaded
        row = screen.highlighted
        assert row is not None and row.suggestion is not None  # a date from the data, not today's
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(pilot.app.screen, FixDialog)
        _still_inputs(pilot)

    assert snap_compare(app_for(db), terminal_size=SIZE, run_before=open_dialog)


def test_command_palette(snap_compare: Callable[..., bool], db: Path) -> None:
    """ctrl+p on the issues list: the app's commands and the screen's."""
    from textual.command import CommandPalette

    async def open_palette(pilot: Pilot) -> None:
        await wait_loaded(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(pilot.app.screen, CommandPalette)
        _still_inputs(pilot)
        await pilot.pause(0.3)  # the palette gathers its commands in the background

    assert snap_compare(app_for(db), terminal_size=SIZE, run_before=open_palette)


def test_loading_state(snap_compare: Callable[..., bool], db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issues list while ingest is still running (held at 40%): the progress line over what is ranked so far."""
    import ccl_tui.pipeline as pipeline_mod
    from ccl_tui.tui.hub import Hub

    monkeypatch.setattr(Hub, "LIVE_REFRESH_S", 3600.0)  # no live detection pass while the frame is taken

    async def held_ingest(
        store: Store, paths: list[Path], settings: object, progress: Callable[[IngestProgress], None]
    ) -> None:
        progress(
            IngestProgress(
                files_total=505,
                files_done=202,
                bytes_total=50_000_000,
                bytes_done=20_000_000,
                sessions=200,
                events=24_000,
                elapsed=2.0,
            )
        )
        await asyncio.Event().wait()  # never done: the load stays in "reading sessions"

    monkeypatch.setattr(pipeline_mod, "ingest_and_detect", held_ingest)

    async def loading(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, CclApp)
        table = app.screen.query_one("#issues-table", DataTable)
        summary = app.screen.query_one("#issues-summary", Static)
        score = app.screen.query_one(ScoreBreakdown)

        def ready() -> bool:  # the list, its summary line and the score panel all drawn from the held state
            return bool(
                app.hub.state.progress.files_done
                and table.row_count
                and "loading…" in str(summary.render())
                and score._issue is not None
            )

        for _ in range(600):
            if ready():
                break
            await asyncio.sleep(0.05)
        await settle(pilot, ignore={"load"})
        assert app.hub.state.phase == "ingesting" and ready()

    assert snap_compare(app_for(db), terminal_size=SIZE, run_before=loading)


def test_empty_state(snap_compare: Callable[..., bool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--sessions` pointing at an empty folder: no sessions at all, and the screen says where it looked."""
    monkeypatch.chdir(tmp_path)  # a relative folder: the message names it the same way on every machine
    Path("no-sessions").mkdir()
    assert snap_compare(app_for(Path("empty.sqlite"), Path("no-sessions")), terminal_size=SIZE, run_before=wait_loaded)


def test_error_state(snap_compare: Callable[..., bool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database that cannot be opened (not SQLite): the load line says so, in the error colour, and so does
    a notification; the app keeps running."""
    monkeypatch.chdir(tmp_path)  # a relative --db: the message names it the same way on every machine
    Path("broken.sqlite").write_bytes(b"not a database, " * 256)
    empty = tmp_path / "no-sessions"
    empty.mkdir()

    async def failed(pilot: Pilot) -> None:
        await wait_loaded(pilot)
        app = pilot.app
        assert isinstance(app, CclApp) and app.hub.state.phase == "error"

    assert snap_compare(app_for(Path("broken.sqlite"), empty), terminal_size=SIZE, run_before=failed)


def test_light_theme(snap_compare: Callable[..., bool], db: Path) -> None:
    assert snap_compare(app_for(db, theme="textual-light"), terminal_size=SIZE, run_before=wait_loaded)
