"""The guided demo as one widget per stage, and the issues list driven by its reactive state."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import ContentSwitcher, DataTable

from ccl_tui.tui.screens.demo import STAGES, DemoScreen
from ccl_tui.tui.screens.issues import IssuesScreen
from ccl_tui.tui.widgets.flow import FlowDiagram
from ccl_tui.tui.widgets.stages import DEMO_STAGES, IssuesStage, SolutionStage, Stage
from tests.tui_support import app_for, copy_db, settle, wait_loaded

SIZE = (140, 42)
DEMO_CORPUS = Path(__file__).resolve().parent.parent / "demo_sessions"


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    return copy_db(demo_db, tmp_path / "demo.sqlite")


def test_the_stages_in_order() -> None:
    assert STAGES == ("Problem", "Solution", "Data", "Signals", "Issues", "Harbor Task", "Closing")
    assert all(issubclass(stage, Stage) and stage.TITLE for stage in DEMO_STAGES)
    assert [stage.LIVE for stage in DEMO_STAGES] == [True, False, True, True, True, False, True]


async def test_the_screen_shows_one_stage_widget_at_a_time(db: Path) -> None:
    app = app_for(db, demo=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        screen = app.screen
        assert isinstance(screen, DemoScreen)
        switcher = screen.query_one(ContentSwitcher)
        assert [type(s) for s in screen.stages] == list(DEMO_STAGES)
        for n, stage_type in enumerate(DEMO_STAGES):
            await pilot.press(str(n + 1))
            await settle(pilot)
            assert isinstance(screen.current, stage_type) and switcher.visible_content is screen.current
            assert [s.display for s in screen.stages] == [s is screen.current for s in screen.stages]
            assert screen.sub_title == f"stage {n + 1}/7: {stage_type.SHORT_TITLE}"
        await pilot.press("0")  # not a stage: nothing happens
        assert screen.stage == 6


async def test_up_and_down_move_only_the_issues_stage(db: Path) -> None:
    app = app_for(db, demo=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        screen = app.screen
        assert isinstance(screen, DemoScreen)
        table = screen.query_one(IssuesStage).query_one("#i-table", DataTable)
        await pilot.press("down")  # on the Problem stage: nothing to move
        await pilot.press("5")
        await settle(pilot)
        assert table.cursor_row == 0
        await pilot.press("down", "down", "up")
        assert table.cursor_row == 1


async def test_the_flow_moves_only_while_its_stage_is_shown(db: Path) -> None:
    app = app_for(db, demo=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        flow = app.screen.query_one(SolutionStage).query_one(FlowDiagram)
        await pilot.pause(FlowDiagram.STEP_S + 0.3)
        assert flow.active == 0  # not on screen: the highlight rests
        await pilot.press("2")
        await pilot.pause(FlowDiagram.STEP_S + 0.3)
        assert flow.active > 0
        flow.playing = False
        held = flow.active
        await pilot.pause(FlowDiagram.STEP_S + 0.3)
        assert flow.active == held


async def test_sort_and_search_are_reactive(db: Path) -> None:
    """Setting the state re-renders the list: no refill by hand."""
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        screen = app.screen
        assert isinstance(screen, IssuesScreen)
        screen.sort_key = "title"
        await pilot.pause()
        titles = [i.title.lower() for i in screen._shown]
        assert titles == sorted(titles) and "sorted by title" in str(screen.query_one("#issues-summary").render())
        screen.query_text = "httpx"
        await pilot.pause()
        assert screen._shown and all("httpx" in (i.title + i.signature + i.id).lower() for i in screen._shown)
        table = screen.query_one("#issues-table", DataTable)
        assert table.row_count == len(screen._shown) < len(screen._issues)
        screen.query_text = ""
        await pilot.pause()
        assert table.row_count == len(screen._issues)


async def test_an_empty_scope_says_why(db: Path) -> None:
    """Sessions were read but none in this scope has friction: the list says so instead of staying blank."""
    from textual.widgets import Select, Static

    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        screen = app.screen
        assert isinstance(screen, IssuesScreen)
        empty = screen.query_one("#issues-empty", Static)
        assert empty.has_class("hidden") and not screen.has_class("-empty")
        screen.query_one("#filter-origin", Select).value = "review"  # the demo corpus has no review sessions
        await settle(pilot)
        assert not screen._issues
        assert not empty.has_class("hidden") and screen.has_class("-empty")
        text = str(empty.render())
        assert "No friction in" in text and "session(s) read" in text
        screen.query_one("#filter-origin", Select).value = "user"
        await settle(pilot)
        assert screen._issues and empty.has_class("hidden")


async def test_the_summary_line_says_when_the_load_is_over(tmp_path: Path) -> None:
    """The last ranking pass runs before the load ends (Harbor jobs are imported after it): the summary line
    must still drop its "loading…" once the load is over."""
    from textual.widgets import Static

    from ccl_tui.tui.app import make_app
    from ccl_tui.tui.hub import Source
    from ccl_tui.tui.launch import demo_jobs

    corpus = DEMO_CORPUS
    app = make_app(source=Source((corpus,), tmp_path / "fresh.sqlite", jobs=demo_jobs(corpus), generated=True))
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        screen = app.screen
        assert isinstance(screen, IssuesScreen) and screen._issues
        assert app.hub.state.phase == "ready" and await app.hub.results() is not None
        await settle(pilot)
        text = str(screen.query_one("#issues-summary", Static).render())
        assert "issue(s)" in text and "loading" not in text, text


async def test_a_ranking_read_before_a_new_one_landed_is_not_cached(tmp_path: Path, demo_db: Path) -> None:
    """A read of the issues that began before a detection pass cleared the cache must not put the old ranking
    back into it (it did, and a screen could show a ranking from the middle of the load)."""
    import asyncio

    import ccl_tui.pipeline as pipeline_mod
    from ccl_tui.tui.hub import Hub, Source

    hub = Hub(Source((DEMO_CORPUS,), copy_db(demo_db, tmp_path / "demo.sqlite")))
    await hub.open()
    try:
        real = pipeline_mod.ranked_issues
        started, release = asyncio.Event(), asyncio.Event()

        async def slow(*args: object, **kw: object) -> object:
            started.set()
            await release.wait()
            return []  # the "old" ranking

        pipeline_mod.ranked_issues = slow  # type: ignore[assignment]
        try:
            reader = asyncio.ensure_future(hub.issues())
            await started.wait()
            hub.clear_issue_cache()  # a new ranking landed while the read was in flight
            release.set()
            assert await reader == []
        finally:
            pipeline_mod.ranked_issues = real
        assert await hub.issues()  # read again from the store, not the stale empty list
    finally:
        await hub.close()
