"""The app's data table: Textual's ``DataTable`` with one rendering fix."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey


class Table(DataTable[Text]):
    """A ``DataTable`` that repaints its cells when new rows widen a column.

    Textual (8.2) measures the rows added since the last idle in ``_update_dimensions`` but keeps its cell
    render cache, whose key has no width: a row painted between ``add_row`` and that idle (a busy machine,
    a screen refilled while on view) stayed cut to the old width, a fix date ``2026-10-26`` shown as ``202``
    until some other change. Here a width change invalidates the rendered cells.
    """

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        before = self._widths()
        super()._update_dimensions(new_rows)
        if self._widths() != before:
            self._update_count += 1  # part of every render cache key
            self._clear_caches()
            self.refresh()

    def _widths(self) -> list[int]:
        return [self._label_column.content_width, *(c.content_width for c in self.columns.values())]
