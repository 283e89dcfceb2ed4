"""The help is generated, not kept by hand: every key the app and its screens bind (with a description) is in it,
a key added to a screen shows up without touching the help, and the impact formula shows the weights in force."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.binding import Binding
from textual.pilot import Pilot

from ccl_tui.tui.app import CclApp
from ccl_tui.tui.screens.help import SECTIONS, HelpScreen, binding_rows, key_name
from ccl_tui.tui.screens.issues import IssuesScreen
from tests.conftest import write_config
from tests.tui_support import app_for, copy_db, screen_text, wait_loaded

SIZE = (130, 120)  # tall enough for the whole help at once


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    return copy_db(demo_db, tmp_path / "demo.sqlite")


async def open_help(pilot: Pilot) -> str:
    await wait_loaded(pilot)
    await pilot.press("question_mark")
    await pilot.pause()
    assert isinstance(pilot.app.screen, HelpScreen)
    return screen_text(pilot.app)


def shown(text: str, keys: str, what: str) -> bool:
    """A line of the help has these keys and this explanation."""
    return any(keys in line and what in line for line in text.splitlines())


def test_keys_of_one_meaning_share_a_row() -> None:
    rows = binding_rows(
        [
            Binding("escape,backspace", "app.pop_screen", "Back"),
            Binding("n", "jump(1)", "Next", tooltip="Next / previous signal"),
            Binding("p", "jump(-1)", "Prev", tooltip="Next / previous signal"),
            Binding("ctrl+t", "theme", "Theme", show=False),
            Binding("question_mark", "help", "Help", key_display="F1"),
            Binding("x", "secret", show=False),  # no description: not for the help
        ]
    )
    assert rows == [
        ("esc / backspace", "Back"),
        ("n / p", "Next / previous signal"),
        ("ctrl+t", "Theme"),
        ("F1", "Help"),
    ]


async def test_every_binding_with_a_description_is_in_the_help(db: Path) -> None:
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        text = await open_help(pilot)
        classes = [CclApp] + [cls for _, group in SECTIONS for cls in group]
        checked = 0
        for cls in classes:
            for binding in Binding.make_bindings(vars(cls).get("BINDINGS", ())):
                if binding.description:
                    what = binding.tooltip or binding.description
                    assert shown(text, key_name(binding), what), (cls.__name__, binding.key, what)
                    checked += 1
        assert checked > 30
        assert shown(text, "ctrl+p", "Command palette")  # Textual's own key, kept with the app-wide ones
        for title, _ in SECTIONS:
            assert title in text


async def test_a_key_added_to_a_screen_shows_in_the_help(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    added = Binding("z", "app.bell", "Zap", tooltip="Ring the bell (a key this test adds)")
    monkeypatch.setattr(IssuesScreen, "BINDINGS", [*IssuesScreen.BINDINGS, added])
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        text = await open_help(pilot)
    assert shown(text, "z", "Ring the bell (a key this test adds)")
    lines = text.splitlines()
    row = next(n for n, line in enumerate(lines) if "Ring the bell" in line)
    issues = next(n for n, line in enumerate(lines) if " issues " in line)
    clusters = next(n for n, line in enumerate(lines) if " clusters " in line)
    assert issues < row < clusters  # listed with the screen that binds it


async def test_the_formula_shows_the_weights_in_force(db: Path) -> None:
    write_config("[impact]\ncost_per_turn = 2.5\nrecency_half_life_days = 30\nunresolved_penalty = 0.5\n")
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        text = await open_help(pilot)
        assert app.hub.settings.impact.cost_per_turn == 2.5  # the weights the app ranks with...
    assert "1 + extra prompts x 2.5 + minutes x 0.1" in text  # ...are the ones the help shows
    assert "(+0.5 if it never succeeded)" in text
    assert "halves every 30 days since last seen" in text
    assert "halves every 14 days" not in text


async def test_the_formula_shows_the_defaults_without_a_config(db: Path) -> None:
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        text = await open_help(pilot)
    assert "1 + extra prompts x 1 + minutes x 0.1 + million uncached tokens x 2" in text
    assert "(+1 if it never succeeded)" in text
    assert "halves every 14 days since last seen (floor 0.05)" in text
