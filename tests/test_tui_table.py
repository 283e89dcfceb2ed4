"""The app's table repaints cells that a wider new row made too narrow (a Textual cache keyed without width)."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from ccl_tui.tui.widgets.table import Table


class _One(App[None]):
    def __init__(self, table: DataTable[Text]) -> None:
        super().__init__()
        self.table = table

    def compose(self) -> ComposeResult:
        yield self.table


def _row(table: DataTable[Text]) -> str:
    return "".join(s.text for s in table.render_line(1)._segments)


async def _refill_painted_before_idle(table: DataTable[Text]) -> str:
    """A row shown with narrow cells, then the table refilled with a wider one and painted before the table's
    idle measures it (what a busy machine does); returns the row as shown once the idle has run."""
    app = _One(table)
    async with app.run_test(size=(60, 6)) as pilot:
        table.add_columns("#", "fix", "verdict")
        table.add_row(Text("3"), Text("-"), Text("no fix marked"))
        await pilot.pause()
        assert " - " in _row(table)
        table.clear()
        table.add_row(Text("3"), Text("2026-10-26"), Text("dropped"))
        _row(table)  # painted now, before the idle
        await pilot.pause()
        return _row(table)


async def test_a_wider_row_is_shown_whole_after_a_refill() -> None:
    assert "2026-10-26" in await _refill_painted_before_idle(Table())


async def test_textuals_own_table_keeps_the_cut_cell() -> None:
    """The Textual behaviour the subclass exists for: when this fails, Textual fixed it and Table can go."""
    shown = await _refill_painted_before_idle(DataTable())
    assert "2026-10-26" not in shown and " 202 " in shown
