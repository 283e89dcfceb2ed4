"""Small visual widgets: horizontal bar charts that grow as data arrives, stat cards, the load status line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import ProgressBar, Static

from ccl_tui.text.ansi import terminal_safe
from ccl_tui.text.cut import shorten

if TYPE_CHECKING:
    from textual.geometry import Size

    from ccl_tui.tui.hub import LoadState

_EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar(value: float, maximum: float, width: int) -> str:
    """A horizontal bar of ``width`` cells with eighth-block resolution."""
    if maximum <= 0 or width <= 0 or value <= 0:
        return ""
    cells = value / maximum * width
    full = int(cells)
    frac = int((cells - full) * 8)
    return "█" * full + (_EIGHTHS[frac] if frac and full < width else "")


class BarChart(Widget):
    """Labelled horizontal bars; ``data`` can be replaced at any time (the bars re-render at the new size).

    The scale is the largest value seen so far, so bars grow smoothly while a load is running instead of
    jumping every time a new maximum arrives.
    """

    DEFAULT_CSS = """
    BarChart { height: auto; padding: 0 1; }
    BarChart > .bar-chart--bar { color: $primary; }
    BarChart.delight > .bar-chart--bar { color: $success; }
    BarChart.friction > .bar-chart--bar { color: $error; }
    BarChart > .bar-chart--label { color: $text; }
    BarChart > .bar-chart--value { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"bar-chart--bar", "bar-chart--label", "bar-chart--value"}

    data: reactive[tuple[tuple[str, int], ...]] = reactive((), layout=True)

    def __init__(
        self,
        title: str = "",
        *,
        label_width: int = 24,
        show_share: bool = True,
        unit: str = "",
        maximum: int | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """``maximum``: a fixed full-scale value (e.g. 100 for percentages of a whole) instead of the largest."""
        super().__init__(name=name, id=id, classes=classes)
        self.maximum = maximum
        self.unit = unit
        self.title = title
        self.label_width = label_width
        self.show_share = show_share
        self._scale = 0

    def set_data(self, items: Sequence[tuple[str, int]]) -> None:
        self.data = tuple((str(k), int(v)) for k, v in items)

    def reset_scale(self) -> None:
        self._scale = 0

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.data) + (1 if self.title else 0) + (1 if not self.data else 0)

    def render(self) -> Text:
        out = Text()
        if self.title:  # one line (the height counts one): cut at a word boundary on narrow terminals
            out.append(shorten(self.title, max(self.content_size.width, 8)) + "\n", style="bold")
        if not self.data:
            out.append("(no data yet)", style="dim")
            return out
        total = sum(v for _, v in self.data)
        self._scale = max(self._scale, max(v for _, v in self.data), self.maximum or 1)
        value_w = max(len(f"{v:,}{self.unit}") for _, v in self.data)
        # labels give way on narrow terminals: the bars keep at least 12 columns
        room = max(12, self.content_size.width - value_w - 2 - (6 if self.show_share else 0) - 12)
        label_w = min(max(len(k) for k, _ in self.data), self.label_width, room)
        width = max(self.content_size.width - label_w - value_w - 2 - (6 if self.show_share else 0), 4)
        bar_style = self.get_component_rich_style("bar-chart--bar")
        label_style = self.get_component_rich_style("bar-chart--label")
        value_style = self.get_component_rich_style("bar-chart--value")
        for i, (label, value) in enumerate(self.data):
            shown = _fit(label, label_w)
            out.append(f"{terminal_safe(shown):<{label_w}} ", style=label_style)
            out.append(f"{f'{value:,}{self.unit}':>{value_w}} ", style=value_style)
            b = bar(value, self._scale, width)
            out.append(b, style=bar_style)
            share = f" {100 * value / total:.0f}%" if total and self.show_share else ""
            out.append(share, style=value_style)
            if i < len(self.data) - 1:
                out.append("\n")
        return out


def _fit(label: str, width: int) -> str:
    """``label`` in ``width`` columns; a trailing `` · detail`` is kept whole and the head shortened instead."""
    head, sep, tail = label.rpartition(" · ")
    if len(label) > width and sep and len(sep + tail) + 8 <= width:
        return shorten(head, width - len(sep + tail)) + sep + tail
    return shorten(label, width)


class StatCard(Static):
    """A big figure with a caption. ``value`` and ``caption`` are plain text."""

    DEFAULT_CSS = """
    StatCard {
        width: 1fr; height: 5; border: round $primary 50%; padding: 0 1; content-align: center middle;
        text-align: center;
    }
    StatCard.accent { border: round $accent; }
    """

    def __init__(
        self,
        value: str = "-",
        caption: str = "",
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._value = value
        self._caption = caption

    def on_mount(self) -> None:
        self._refresh()

    def show(self, value: str, caption: str | None = None) -> None:
        self._value = value
        if caption is not None:
            self._caption = caption
        self._refresh()

    def _refresh(self) -> None:
        t = Text()
        t.append(terminal_safe(self._value) + "\n", style="bold")
        t.append(terminal_safe(self._caption), style="dim")
        self.update(t)


class LoadStatus(Vertical):
    """Progress of the initial load: files, MB, sessions, events and rate. Hidden once loading is done."""

    DEFAULT_CSS = """
    LoadStatus { height: auto; padding: 0 1; background: $boost; }
    LoadStatus.-done { display: none; }
    LoadStatus ProgressBar { width: 1fr; }
    LoadStatus Bar { width: 1fr; }
    LoadStatus > #load-text { color: $text-muted; }
    LoadStatus.-error > #load-text { color: $error; }
    """

    def compose(self) -> ComposeResult:
        yield ProgressBar(total=None, show_eta=False, show_percentage=True, id="load-bar")
        yield Static("", id="load-text", markup=False)

    def update_state(self, state: LoadState) -> None:
        p = state.progress
        bar_widget = self.query_one(ProgressBar)
        if p.bytes_total:
            bar_widget.update(total=p.bytes_total, progress=p.bytes_done)
        phase = {
            "starting": "starting",
            "ingesting": "reading sessions",
            "detecting": "detecting signals",
            "ready": "ready",
            "error": "error",
        }.get(state.phase, state.phase)
        text = (
            f"{phase}: files {p.files_done:,}/{p.files_total:,}  {p.bytes_done / 1e6:,.1f} MB"
            f"  sessions {p.sessions:,}  events {p.events:,}  ({p.events_per_s:,.0f} events/s)"
        )
        if state.detected is not None:
            text += f"  signals {state.detected.signals:,}"
        if state.error:
            text = f"error: {state.error}"
        bar_widget.display = not state.error  # a stopped load: no bar still waiting for it
        self.query_one("#load-text", Static).update(text)
        self.set_class(bool(state.error), "-error")
        self.set_class(not state.loading and not state.error, "-done")
