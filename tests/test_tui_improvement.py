"""Pilot tests of the Improvement view: suggested fix dates, marking and clearing a fix, Harbor pass rates
per run, the empty state, and untrusted titles, notes and run labels."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from ccl_tui.issues.build import issue_id
from ccl_tui.results.api import fixes, import_jobs
from ccl_tui.store.db import Store
from ccl_tui.tui.screens.improvement import FixDialog, ImprovementScreen
from ccl_tui.tui.screens.issue import IssueScreen
from ccl_tui.tui.screens.issues import IssuesScreen
from tests.builders import Rollout
from tests.tui_support import app_for, copy_db, screen_text, settle, wait_loaded

SIZE = (140, 42)
JOBS = Path(__file__).parent / "fixtures" / "harbor_jobs"
FIXED = issue_id("pytest | ModuleNotFoundError: httpx")  # the demo corpus's fixed root cause
SPLIT = "2026-10-26"  # where its rate drops in the demo corpus
HOSTILE_MARKUP = "[bold red]x[/]"
HOSTILE_ANSI = "\x1b[31m"
HOSTILE_PROGRAM = "[b]boom[b]"  # a program name survives into the issue title (messages are normalized away)


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    return copy_db(demo_db, tmp_path / "demo.sqlite")


async def import_fixture_jobs(db: Path, label: str | None = None) -> None:
    store = await Store.open(db)
    try:
        for job in sorted(p for p in JOBS.iterdir() if p.is_dir()):
            await import_jobs(store, job, label=f"{label}{job.name}" if label else None)
    finally:
        await store.close()


async def open_improvement(pilot) -> ImprovementScreen:  # type: ignore[no-untyped-def]
    await wait_loaded(pilot)
    assert isinstance(pilot.app.screen, IssuesScreen)
    await pilot.press("i")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ImprovementScreen)
    for _ in range(200):  # the view loads in a worker: wait for it (slow under a loaded CI machine)
        if screen.loaded:
            break
        await pilot.pause(0.05)
    assert screen.loaded
    await settle(pilot)
    return screen


async def text_with(pilot, pattern: str, tries: int = 200) -> str:  # type: ignore[no-untyped-def]
    """The screen's text once ``pattern`` shows on it (a loaded CI machine repaints late), or as it is then."""
    text = screen_text(pilot.app)
    for _ in range(tries):
        if re.search(pattern, text):
            break
        await pilot.pause(0.05)
        text = screen_text(pilot.app)
    return text


def select(screen: ImprovementScreen, issue: str) -> None:
    row = next(n for n, r in enumerate(screen._rows) if r.issue_id == issue)
    screen.query_one("#imp-table", DataTable).move_cursor(row=row)


async def test_suggestion_mark_fix_verdict_and_clear(db: Path) -> None:
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_improvement(pilot)
        rows = [r for r in screen._rows if r.issue_id == FIXED]
        assert len(rows) == 1 and rows[0].suggestion is not None and rows[0].fix is None
        select(screen, FIXED)
        await pilot.pause()
        text = screen_text(app)
        assert f"suggested: change on {SPLIT}, press f" in text
        assert "← change point" in text and f"Suggested fix date {SPLIT}" in text

        await pilot.press("f")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, FixDialog)
        assert dialog.query_one("#fix-date", Input).value == SPLIT  # prefilled with the change point
        await pilot.press("tab", *"dependency pinned")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        saved = (await fixes(app.hub.store))[FIXED]
        assert saved.fixed_on == SPLIT and saved.note == "dependency pinned"
        assert screen.highlighted is not None and screen.highlighted.issue_id == FIXED
        text = await text_with(pilot, rf"{SPLIT}\s+dropped")  # the table row is redrawn after the save
        assert "Verdict: dropped" in text
        assert "← fix" in text and f"fixed on {SPLIT}: dependency pinned" in text
        assert re.search(rf"{SPLIT}\s+dropped", text)  # the table row
        assert "suggested: change on" not in text

        await pilot.press("x")
        await settle(pilot)
        assert FIXED not in await fixes(app.hub.store)
        assert f"suggested: change on {SPLIT}, press f" in screen_text(app)

        await pilot.press("enter")  # opens the issue
        await settle(pilot)
        assert isinstance(app.screen, IssueScreen) and app.screen.issue_id == FIXED
        await pilot.press("escape")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, IssuesScreen)


async def test_bad_date_shows_the_error_and_saves_nothing(db: Path) -> None:
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_improvement(pilot)
        select(screen, FIXED)
        await pilot.press("f")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, FixDialog)
        dialog.query_one("#fix-date", Input).value = "2026-13-45"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog  # still open, with the reason
        error = str(dialog.query_one("#fix-error", Static).render())
        assert "not a date" in error and "2026-13-45" in error
        assert "not a date: '2026-13-45'" in screen_text(app)
        assert await fixes(app.hub.store) == {}
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert await fixes(app.hub.store) == {}
        assert "no fix marked" in screen_text(app)


async def test_pass_rate_per_harbor_run(db: Path) -> None:
    await import_fixture_jobs(db)
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_improvement(pilot)
        row = screen._rows[0]
        assert row.issue_id == FIXED and row.tracked and row.suggestion is not None
        text = screen_text(app)
        assert "2 Harbor run(s): 2026-11-02__09-00-00, 2026-11-20__09-00-00" in text
        assert re.search(r"25% → 80%\s+4 → 5", text)  # the table row
        assert re.search(r"2026-11-02__09-00-00  1/4\s+25%", text)  # bar labels
        assert re.search(r"2026-11-20__09-00-00  4/5\s+80%", text)
        assert "2026-11-02__09-00-00: pass rate 25% (1/4, 95% CI 5%-70%)" in text
        assert "2026-11-20__09-00-00: pass rate 80% (4/5, 95% CI 38%-96%)" in text
        assert "2 with errors, 1 ungraded" in text
        runs = str(screen.query_one("#imp-runs-text", Static).render())
        assert "2026-11-02__09-00-00 → 2026-11-20__09-00-00: 25% → 80%" in runs
        assert "+55 points (95% CI -7 to +81), not significant" in runs


async def test_palette_command_and_empty_state(tmp_path: Path) -> None:
    empty = tmp_path / "no-sessions"
    empty.mkdir()
    app = app_for(tmp_path / "empty.sqlite", empty)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        assert any(c.title == "Improvement" for c in app.get_system_commands(app.screen))
        app.action_improvement()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ImprovementScreen) and screen._rows == []
        text = screen_text(app)
        assert "ccl-tui results import JOB_DIR" in text
        assert "ccl-tui fix ISSUE_ID --date D" in text and "press f" in text
        assert screen.query_one("#imp-table").has_class("hidden")
        await pilot.press("f")  # nothing to mark: no dialog, no crash
        await pilot.press("x")
        await settle(pilot)
        assert app.screen is screen


async def test_untrusted_titles_notes_and_labels_are_literal(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for i in range(2):
        r = Rollout(start=f"2026-10-0{i + 1}T09:00:00")
        r.user(f"fix {HOSTILE_MARKUP} please")
        r.exec(f"{HOSTILE_PROGRAM} --go", f"E   error: {HOSTILE_MARKUP} {HOSTILE_ANSI}missing", 1)
        r.complete()
        r.write(home)
    db = tmp_path / "h.sqlite"
    await import_fixture_jobs(db, label=f"{HOSTILE_MARKUP}{HOSTILE_ANSI}")  # runs of an issue not in this corpus
    app = app_for(db, home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        hostile = next(i for i in await app.hub.issues() if HOSTILE_PROGRAM in i.title)
        await app.hub.mark_fix(hostile.id, "2026-10-02", f"note {HOSTILE_MARKUP} {HOSTILE_ANSI}red")
        screen = await open_improvement(pilot)
        texts = []
        for r in screen._rows:
            select(screen, r.issue_id)
            await pilot.pause()
            texts.append(screen_text(app))
        select(screen, hostile.id)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FixDialog)
        assert app.screen.query_one("#fix-note", Input).value == f"note {HOSTILE_MARKUP} red"
        texts.append(screen_text(app))
        await pilot.press("escape")
        await settle(pilot)
        joined = "\n".join(texts)
        assert "\x1b" not in joined
        assert f"note {HOSTILE_MARKUP} red" in joined  # the note, literally
        assert f"{HOSTILE_PROGRAM} fails: exit 1" in joined  # the title, literally
        assert f"{HOSTILE_MARKUP}2026-11-02__09-00-00" in joined  # run labels, literally
        assert "(not in the current ranking)" in joined
