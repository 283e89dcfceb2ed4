"""Pilot tests: triage path, guided demo stages, async loading, and untrusted text through every view."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import DataTable

from ccl_tui.pipeline import ranked_issues
from ccl_tui.stats import overview
from ccl_tui.store.db import Store
from ccl_tui.tui.screens.demo import STAGES, DemoScreen
from ccl_tui.tui.screens.issue import IssueScreen
from ccl_tui.tui.screens.issues import IssuesScreen
from ccl_tui.tui.screens.transcript import TranscriptScreen
from ccl_tui.tui.widgets.charts import BarChart, StatCard
from ccl_tui.tui.widgets.transcript_view import TranscriptView
from tests.builders import Rollout
from tests.tui_support import app_for, copy_db, screen_text, settle, wait_loaded

SIZE = (140, 42)


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    return copy_db(demo_db, tmp_path / "demo.sqlite")


async def test_loads_asynchronously_from_an_empty_database(tmp_path: Path) -> None:
    """The first frame comes before any data; the table fills as the loader runs in the background."""
    app = app_for(tmp_path / "fresh.sqlite")
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#issues-table", DataTable)
        assert isinstance(app.screen, IssuesScreen)
        assert app.hub.state.loading  # the screen is up while the load has only just started
        await wait_loaded(pilot)
        assert table.row_count > 10
        assert app.hub.state.summary is not None and app.hub.state.summary.new == 505  # 500 + 5 runnable
        assert "issue(s) · scope origins: interactive, ide, other" in screen_text(app)


async def test_triage_path_list_issue_transcript(db: Path) -> None:
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        issues = await ranked_issues(app.hub.store)
        table = app.screen.query_one("#issues-table", DataTable)
        assert table.row_count == len(issues)
        assert issues[0].title in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, IssueScreen) and app.screen.issue_id == issues[0].id
        text = screen_text(app)
        assert issues[0].impact.formula() in text and "why this rank" in text
        first = issues[0].evidence[0]
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TranscriptScreen) and screen.session_id == first.session_id
        view = screen.query_one(TranscriptView)
        block = view.current_block
        assert block is not None and block.event.seq == first.seq  # scrolled to and on the evidence event
        assert any(s.kind for s in block.signals)
        marks = view.signal_blocks
        await pilot.press("n")
        assert view.cursor == next((i for i in marks if i > marks[marks.index(view.index_of(first.seq))]), marks[0])
        await pilot.press("p")
        assert view.current_block is not None and view.current_block.event.seq == first.seq
        await pilot.press("t")  # one key writes the Harbor task for the signal under the cursor
        await settle(pilot)
        from ccl_tui.locations import tasks_dir

        written = sorted(tasks_dir().glob("*/task.toml"))
        assert len(written) == 1
        assert first.session_id in written[0].read_text()
        await pilot.press("escape")
        await pilot.press("escape")
        assert isinstance(app.screen, IssuesScreen)


async def test_sort_search_and_filters(db: Path) -> None:
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        screen = app.screen
        assert isinstance(screen, IssuesScreen)
        await pilot.press("s")  # impact -> sessions
        shown = screen._shown
        assert [i.impact.sessions for i in shown] == sorted((i.impact.sessions for i in shown), reverse=True)
        await pilot.press("slash")
        await pilot.press(*"httpx")
        await pilot.pause()
        assert screen._shown and all("httpx" in (i.title + i.signature).lower() for i in screen._shown)
        await pilot.press("escape")
        await pilot.pause()
        assert len(screen._shown) == len(screen._issues)
        origin = screen.query_one("#filter-origin")
        origin.value = "exec"  # type: ignore[attr-defined]
        await pilot.pause()
        await settle(pilot)
        exec_ids = {i.id for i in screen._issues}
        store: Store = app.hub.store
        from ccl_tui.pipeline import scope_from

        assert exec_ids == {i.id for i in await ranked_issues(store, scope_from("exec"))}


async def test_transcript_folds_and_expands(db: Path) -> None:
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        issues = await ranked_issues(app.hub.store)
        ev = issues[0].evidence[0]
        app.push_screen(TranscriptScreen(ev.session_id, ev.seq))
        await settle(pilot)
        view = app.screen.query_one(TranscriptView)
        foldable = next(i for i, b in enumerate(view.blocks) if b.foldable)
        view.cursor = foldable
        before = len(view._lines)
        await pilot.press("enter")
        assert view.blocks[foldable].expanded and len(view._lines) > before
        await pilot.press("enter")
        assert len(view._lines) == before
        hidden = len(view.blocks)
        await pilot.press("a")
        assert len(view.blocks) > hidden  # token counts, context, duplicate records


@pytest.mark.parametrize("stage", range(len(STAGES)))
async def test_demo_stage(db: Path, stage: int) -> None:
    app = app_for(db, demo=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        screen = app.screen
        assert isinstance(screen, DemoScreen)
        for _ in range(stage):
            await pilot.press("enter")
        await settle(pilot)
        assert screen.stage == stage
        assert f"stage {stage + 1}/7: {STAGES[stage]}" in screen_text(app)
        ov = await overview(app.hub.store)
        issues = await ranked_issues(app.hub.store)
        if stage == 0:
            assert screen.query_one("#p-share", StatCard)._value == f"{100 * ov.friction_share:.0f}%"
            assert issues[0].title in screen_text(app)
        elif stage == 1:
            assert "signal detection" in screen_text(app) and "Harbor task" in screen_text(app)
        elif stage == 2:
            assert screen.query_one("#d-sessions", StatCard)._value == f"{ov.sessions:,}"
            assert dict(screen.query_one("#d-origins", BarChart).data) == ov.origins
        elif stage == 3:
            friction = dict(screen.query_one("#s-friction", BarChart).data)
            delight = dict(screen.query_one("#s-delight", BarChart).data)
            assert sum(friction.values()) + sum(delight.values()) == ov.signals  # totals match the store
            assert friction == {k: ov.friction.get(k, 0) for k in friction}
        elif stage == 4:
            assert screen.query_one("#i-table", DataTable).row_count == min(10, len(issues))
            assert issues[0].impact.formula() in screen_text(app)
        elif stage == 5:
            text = screen_text(app)
            assert "task written to" in text and "instruction.md" in text and "task.toml" in text
        elif stage == 6:
            assert "before" in screen_text(app) and "z =" in screen_text(app)


async def test_demo_keys(db: Path) -> None:
    app = app_for(db, demo=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        screen = app.screen
        assert isinstance(screen, DemoScreen)
        await pilot.press("right", "right")
        assert screen.stage == 2
        await pilot.press("left")
        assert screen.stage == 1
        await pilot.press("backspace")
        assert screen.stage == 0
        await pilot.press("7")
        assert screen.stage == 6
        await pilot.press("enter")
        assert screen.stage == 6  # stays on the last stage
        await pilot.press("5", "down", "down")
        assert screen.query_one("#i-table", DataTable).cursor_row == 2
        await pilot.press("ctrl+t")
        assert app.theme == "textual-light"
        await pilot.press("ctrl+t")
        assert app.theme == "ccl-high-contrast"
        await pilot.press("escape")
        assert isinstance(app.screen, IssuesScreen)


async def test_demo_auto_advances(db: Path) -> None:
    app = app_for(db, demo=True)
    app.auto = 0.2
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        screen = app.screen
        assert isinstance(screen, DemoScreen)
        await pilot.pause(1.0)
        assert screen.stage >= 2


HOSTILE_MARKUP = "[bold red]x[/]"
HOSTILE_ANSI = "\x1b[31m"


async def test_untrusted_text_is_never_markup_or_ansi(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for i in range(2):
        r = Rollout(start=f"2026-10-0{i + 1}T09:00:00")
        r.user(f"fix {HOSTILE_MARKUP} and {HOSTILE_ANSI}red please")
        r.exec(
            f"pytest -k '{HOSTILE_MARKUP}'",
            f"E   ValueError: bad {HOSTILE_MARKUP} value {HOSTILE_ANSI}boom\n1 failed",
            1,
        )
        r.assistant(f"Found {HOSTILE_MARKUP} {HOSTILE_ANSI}")
        r.complete()
        r.user(f"no, that's wrong {HOSTILE_MARKUP}")
        r.write(home)
    app = app_for(tmp_path / "h.sqlite", home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        texts = [screen_text(app)]
        screen = app.screen
        assert isinstance(screen, IssuesScreen)
        target = next(n for n, i in enumerate(screen._shown) if i.kind == "command_failure")
        screen.query_one("#issues-table", DataTable).move_cursor(row=target)
        await pilot.press("enter")
        await settle(pilot)
        texts.append(screen_text(app))
        await pilot.press("enter")
        await settle(pilot)
        view = app.screen.query_one(TranscriptView)
        await pilot.press("a")
        for i, b in enumerate(view.blocks):
            if b.foldable:
                view.cursor = i
                await pilot.press("enter")
        lines = [view.render_line(y).text for y in range(view.size.height)]
        texts.append(screen_text(app))
        texts.append("\n".join(lines))
        app.action_demo()
        await settle(pilot)
        for stage in "15":
            await pilot.press(stage)
            await settle(pilot)
            texts.append(screen_text(app))
        joined = "\n".join(texts)
        assert "\x1b" not in joined
        assert joined.count(HOSTILE_MARKUP) >= 4  # shown literally in list, issue and transcript views
        assert re.search(r"ValueError: bad \[bold red\]x\[/\] value", joined)


async def test_large_issue_lists_load_rows_in_pages(tmp_path: Path) -> None:
    from ccl_tui.tui.screens.issues import PAGE

    home = tmp_path / "home"
    n = 0
    for s in range(70):
        r = Rollout(start=f"2026-10-{1 + s % 28:02d}T09:{s % 60:02d}:00", cwd=f"/home/dev/src/repo{s % 5}")
        r.user("make it build")
        for _ in range(5):
            r.exec(
                f"pytest -q case_{n}",
                f"E   ModuleNotFoundError: No module named 'mod_{chr(97 + n % 26)}{chr(97 + n // 26 % 26)}'",
                1,
            )
            n += 1
        r.write(home)
    app = app_for(tmp_path / "big.sqlite", home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        screen = app.screen
        assert isinstance(screen, IssuesScreen)
        table = screen.query_one("#issues-table", DataTable)
        assert len(screen._shown) > PAGE + 50
        assert table.row_count == PAGE  # only the first page is in the table
        table.move_cursor(row=PAGE - 1)
        await pilot.pause()
        assert table.row_count == min(2 * PAGE, len(screen._shown))  # the next page arrived near the end
        await pilot.press("s")  # re-sorting keeps the selected issue under the cursor
        assert screen.highlighted is not None


async def test_clusters_screen_and_cluster_members_on_the_issue(db: Path) -> None:
    from ccl_tui.tui.screens.clusters import ClustersScreen

    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        await pilot.press("c")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ClustersScreen)
        assert "Not clustered yet" in screen_text(app)
        await pilot.press("a")  # offline embedder: no key in tests
        await settle(pilot, timeout=120)
        merged = [c for c in screen._clusters if len(c.members) > 1]
        assert merged, "the demo corpus has look-alike issues"
        assert "cluster(s) over" in screen_text(app)
        row = screen._clusters.index(merged[0])
        screen.query_one("#clusters-table", DataTable).move_cursor(row=row)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, IssueScreen)
        text = screen_text(app)
        assert f"cluster {merged[0].id}" in text and "same problem as" in text
