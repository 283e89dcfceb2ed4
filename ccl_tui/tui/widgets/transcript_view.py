"""A fast transcript viewer: the Line API renders only visible lines, so 100k-event sessions scroll freely.

Each event is a *block*: one header line plus body lines. Long bodies are folded to their last lines (errors
sit at the end) and expand with Enter or a click. The cursor moves between blocks; signal evidence is marked
and ``n``/``p`` jump between signals. All transcript text is untrusted: it is control-stripped and rendered
as plain segments, never parsed as markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ccl_tui.model.events import Event, EventKind
from ccl_tui.model.signals import Signal
from ccl_tui.text.ansi import terminal_safe
from ccl_tui.transcript import describe, duplicate_seqs

K = EventKind
HIDDEN_KINDS = frozenset({K.TOKEN_COUNT, K.TURN_CONTEXT, K.CONTEXT, K.TURN_STARTED, K.SNAPSHOT})
FOLD_LINES: dict[str, int] = {
    K.TOOL_OUTPUT: 6,
    K.PATCH_APPLY: 4,
    K.TOOL_CALL: 3,
    K.REASONING: 2,
    K.COMPACTION: 3,
    K.OTHER: 2,
}
MESSAGE_FOLD = 30
_ICONS = {"friction": "▲", "delight": "★", "note": "○"}
INDENT = 10


@dataclass(slots=True)
class Block:
    event: Event
    header: str
    tone: str
    body: list[str]  # unwrapped body lines
    signals: list[Signal] = field(default_factory=list)
    expanded: bool = False

    @property
    def foldable(self) -> bool:
        return len(self.body) > self.fold_at

    @property
    def fold_at(self) -> int:
        return FOLD_LINES.get(self.event.kind, MESSAGE_FOLD)


def _wrap(line: str, width: int) -> list[str]:
    if width <= 0 or cell_len(line) <= width:
        return [line]
    return chop_cells(line, width) or [""]


#: What the help says of keys that share a row (``tui/screens/help.py`` gives each tooltip a row).
PAGE = "Move a page up / down"
EDGE = "Move to the first / last event"
SIGNALS = "Next / previous signal"


class TranscriptView(ScrollView, can_focus=True):
    """Scrollable, foldable transcript of one session."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Prev event", show=False),
        Binding("down,j", "cursor(1)", "Next event", show=False),
        Binding("pageup", "page(-1)", "Page up", tooltip=PAGE, show=False),
        Binding("pagedown", "page(1)", "Page down", tooltip=PAGE, show=False),
        Binding("home", "edge(0)", "First event", tooltip=EDGE, show=False),
        Binding("end", "edge(1)", "Last event", tooltip=EDGE, show=False),
        Binding("enter,space", "toggle_fold", "Expand", tooltip="Expand or fold a long output", id="transcript.expand"),
        Binding("n", "jump_signal(1)", "Next signal", tooltip=SIGNALS, id="transcript.next-signal"),
        Binding("p", "jump_signal(-1)", "Prev signal", tooltip=SIGNALS, id="transcript.prev-signal"),
        Binding(
            "a",
            "toggle_all_kinds",
            "All records",
            tooltip="Show every record (token counts, context) or one line per event",
            id="transcript.all",
        ),
    ]
    DEFAULT_CSS = """
    TranscriptView { background: $surface; scrollbar-gutter: stable; }
    TranscriptView > .tv--user { color: $primary; text-style: bold; }
    TranscriptView > .tv--agent { color: $text; }
    TranscriptView > .tv--tool { color: $secondary; }
    TranscriptView > .tv--ok { color: $success; }
    TranscriptView > .tv--bad { color: $error; text-style: bold; }
    TranscriptView > .tv--muted { color: $text-muted; }
    TranscriptView > .tv--body { color: $text; }
    TranscriptView > .tv--fold { color: $text-muted; text-style: italic; }
    TranscriptView > .tv--cursor { background: $boost; }
    TranscriptView > .tv--focus { background: $warning 25%; }
    TranscriptView > .tv--signal-friction { color: $error; text-style: bold; }
    TranscriptView > .tv--signal-delight { color: $success; text-style: bold; }
    TranscriptView > .tv--signal-note { color: $text-muted; text-style: italic; }
    TranscriptView > .tv--gutter { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "tv--user",
        "tv--agent",
        "tv--tool",
        "tv--ok",
        "tv--bad",
        "tv--muted",
        "tv--body",
        "tv--fold",
        "tv--cursor",
        "tv--focus",
        "tv--signal-friction",
        "tv--signal-delight",
        "tv--signal-note",
        "tv--gutter",
    }

    cursor: reactive[int] = reactive(0)
    show_all: reactive[bool] = reactive(False)

    class CursorMoved(Message):
        def __init__(self, view: TranscriptView, block: Block | None) -> None:
            super().__init__()
            self.view = view
            self.block = block

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._events: list[Event] = []
        self._signals: dict[int, list[Signal]] = {}
        self._all_blocks: list[Block] = []
        self.blocks: list[Block] = []
        self._starts: list[int] = []  # first line of each block
        self._lines: list[tuple[int, int]] = []  # (block index, line index within block) per wrapped line
        self._rendered: dict[int, list[tuple[str, str]]] = {}  # block -> [(style key, text)]
        self._focus_seq: int | None = None
        self._duplicates: set[int] = set()
        self._width = 0

    # ------------------------------------------------------------------ data
    def load(self, events_: list[Event], signals: list[Signal], focus_seq: int | None = None) -> None:
        self._events = events_
        self._signals = {}
        for s in signals:
            for seq in s.evidence[:1]:
                self._signals.setdefault(seq, []).append(s)
        self._focus_seq = focus_seq
        self._all_blocks = [self._block(e) for e in events_]
        self._duplicates = self._find_duplicates(self._all_blocks)
        self._rebuild(keep_seq=focus_seq)
        if focus_seq is not None:
            self.call_after_refresh(self.center_on_cursor)

    def _block(self, e: Event) -> Block:
        d = describe(e)
        body = [terminal_safe(line) for line in d.body.split("\n")] if d.body else []
        if (
            body
            and body[0].strip() == d.headline.strip()
            and e.kind
            in (
                K.USER_MESSAGE,
                K.ASSISTANT_MESSAGE,
                K.REASONING,
                K.TOOL_CALL,
                K.CONTEXT,
                K.ERROR,
                K.STREAM_ERROR,
            )
        ):
            body = body[1:]  # the headline already shows the first line
        if (
            e.kind in (K.TOOL_CALL, K.CONTEXT, K.OTHER, K.TURN_CONTEXT)
            and len(body) == 1
            and (d.headline.startswith(body[0].strip()))
        ):
            body = []
        while body and body[-1] == "":
            body = body[:-1]
        header = f"{d.label:<13} {terminal_safe(d.headline)}"
        if e.truncated:
            header += f"  [{e.text_size:,} chars, excerpt kept]"
        return Block(e, header, d.tone, body, self._signals.get(e.seq, []))

    def _find_duplicates(self, blocks: list[Block]) -> set[int]:
        """Records that repeat another record of the same event (see ``transcript.duplicate_seqs``); the ones
        carrying a signal and the focused one are kept."""
        keep = {b.event.seq for b in blocks if b.signals}
        if self._focus_seq is not None:
            keep.add(self._focus_seq)
        return duplicate_seqs([b.event for b in blocks], keep)

    def _visible(self, b: Block) -> bool:
        if self.show_all or bool(b.signals) or b.event.seq == self._focus_seq:
            return True
        return b.event.kind not in HIDDEN_KINDS and b.event.seq not in self._duplicates

    def _rebuild(self, keep_seq: int | None = None) -> None:
        current = self.current_block.event.seq if keep_seq is None and self.current_block else keep_seq
        self.blocks = [b for b in self._all_blocks if self._visible(b)]
        self._rendered.clear()
        self._layout()
        if current is not None:
            idx = self.index_of(current)
            if idx is not None:
                self.set_reactive(TranscriptView.cursor, idx)
        self.post_message(self.CursorMoved(self, self.current_block))

    def _layout(self) -> None:
        width = max(self.scrollable_content_region.width, 20)
        self._width = width
        self._starts = []
        self._lines = []
        for i in range(len(self.blocks)):
            self._starts.append(len(self._lines))
            for j in range(len(self._render_block(i))):
                self._lines.append((i, j))
        self.virtual_size = Size(width, len(self._lines))
        self._line_strip.cache_clear()
        self.refresh()

    def _render_block(self, i: int) -> list[tuple[str, str]]:
        """Wrapped lines of block ``i`` as (style key, text)."""
        cached = self._rendered.get(i)
        if cached is not None:
            return cached
        b = self.blocks[i]
        w = max(self._width - 2, 10)
        e = b.event
        gutter = f"#{e.seq:<6} t{e.turn:<3}"
        marks = "".join("●" for _ in b.signals[:3])
        lines: list[tuple[str, str]] = []
        head = f"{gutter} {marks + ' ' if marks else ''}{b.header}"
        lines.append((f"head-{b.tone}", chop_cells(head, w)[0] if cell_len(head) > w else head))
        for s in b.signals:
            origin = " (model-derived)" if s.source == "model" else ""
            lines.append(
                (
                    f"signal-{s.polarity}",
                    f"{'':{INDENT}} {_ICONS.get(s.polarity, '•')} {s.kind}{origin}: {terminal_safe(s.detail)}"[: w * 2],
                )
            )
        body = b.body
        hidden = 0
        if b.foldable and not b.expanded:
            keep = b.fold_at
            if e.kind in (K.TOOL_OUTPUT, K.PATCH_APPLY):
                hidden, body = len(body) - keep, body[-keep:]
            else:
                hidden, body = len(body) - keep, body[:keep]
        if hidden and e.kind in (K.TOOL_OUTPUT, K.PATCH_APPLY):
            lines.append(("fold", f"{'':{INDENT}} ⋯ {hidden} earlier line(s) folded: Enter to expand"))
        for line in body:
            for part in _wrap(line.expandtabs(4), w - INDENT - 1):
                lines.append(("body", f"{'':{INDENT}} {part}"))
        if hidden and e.kind not in (K.TOOL_OUTPUT, K.PATCH_APPLY):
            lines.append(("fold", f"{'':{INDENT}} ⋯ {hidden} more line(s) folded: Enter to expand"))
        self._rendered[i] = lines
        return lines

    # ------------------------------------------------------------------ queries
    @property
    def current_block(self) -> Block | None:
        return self.blocks[self.cursor] if 0 <= self.cursor < len(self.blocks) else None

    def index_of(self, seq: int) -> int | None:
        for i, b in enumerate(self.blocks):
            if b.event.seq >= seq:
                return i
        return len(self.blocks) - 1 if self.blocks else None

    @property
    def signal_blocks(self) -> list[int]:
        return [i for i, b in enumerate(self.blocks) if b.signals]

    # ------------------------------------------------------------------ rendering
    def on_resize(self, event: events.Resize) -> None:
        if self.blocks and self.scrollable_content_region.width != self._width:
            self._rendered.clear()
            self._layout()

    def render_line(self, y: int) -> Strip:
        line = self.scroll_offset.y + y
        if line >= len(self._lines):
            return Strip.blank(self.size.width, self.rich_style)
        bi, li = self._lines[line]
        key, text = self._render_block(bi)[li]
        state = "focus" if self.blocks[bi].event.seq == self._focus_seq else ""
        if bi == self.cursor:
            state = "cursor" + state
        return self._line_strip(key, text, state, self.size.width)

    @lru_cache(maxsize=4096)  # noqa: B019 - cleared on every layout; the view outlives no app
    def _line_strip(self, key: str, text: str, state: str, width: int) -> Strip:
        style = self._style(key)
        if "cursor" in state:
            style = style + self.get_component_rich_style("tv--cursor")
        if "focus" in state:
            style = style + self.get_component_rich_style("tv--focus")
        marker = "▌" if "cursor" in state else " "
        segments = [Segment(marker, style), Segment(text, style)]
        return Strip(segments).adjust_cell_length(width, style)

    def _style(self, key: str) -> Style:
        if key.startswith("head-"):
            return self.get_component_rich_style(f"tv--{key[5:]}")
        if key.startswith("signal-"):
            return self.get_component_rich_style(f"tv--{key}")
        return self.get_component_rich_style(f"tv--{key}")

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._line_strip.cache_clear()

    def watch_cursor(self, old: int, new: int) -> None:
        self._line_strip.cache_clear()
        self.scroll_to_cursor()
        self.refresh()
        self.post_message(self.CursorMoved(self, self.current_block))

    def watch_show_all(self) -> None:
        self._rebuild()

    # ------------------------------------------------------------------ scrolling
    def _block_region(self, i: int) -> Region:
        start = self._starts[i]
        height = len(self._render_block(i))
        return Region(0, start, self._width, height)

    def scroll_to_cursor(self) -> None:
        if self.blocks:
            self.scroll_to_region(self._block_region(self.cursor), animate=False, force=True)

    def center_on_cursor(self) -> None:
        if not self.blocks:
            return
        start = self._starts[self.cursor]
        self.scroll_to(y=max(start - self.scrollable_content_region.height // 3, 0), animate=False, force=True)
        self.refresh()

    # ------------------------------------------------------------------ actions
    def action_cursor(self, delta: int) -> None:
        if self.blocks:
            self.cursor = max(0, min(len(self.blocks) - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        if not self.blocks:
            return
        target_line = self._starts[self.cursor] + direction * max(self.scrollable_content_region.height - 2, 1)
        target_line = max(0, min(len(self._lines) - 1, target_line))
        self.cursor = self._lines[target_line][0]

    def action_edge(self, end: int) -> None:
        if self.blocks:
            self.cursor = len(self.blocks) - 1 if end else 0

    def action_toggle_fold(self) -> None:
        b = self.current_block
        if b is None or not b.foldable:
            return
        b.expanded = not b.expanded
        self._rendered.pop(self.cursor, None)
        self._layout()
        self.scroll_to_cursor()

    def action_jump_signal(self, direction: int) -> None:
        marks = self.signal_blocks
        if not marks:
            self.app.bell()
            return
        if direction > 0:
            nxt = next((i for i in marks if i > self.cursor), marks[0])
        else:
            nxt = next((i for i in reversed(marks) if i < self.cursor), marks[-1])
        self.cursor = nxt
        self.center_on_cursor()

    def action_toggle_all_kinds(self) -> None:
        self.show_all = not self.show_all
        hidden = len(self._all_blocks) - len(self.blocks)
        self.notify(
            f"every record: {len(self.blocks):,} shown (token counts, context, settings and repeated results included)"
            if self.show_all
            else f"one line per event: {hidden:,} records hidden (a shows them)",
            title="all records" if self.show_all else "events",
            timeout=3,
            markup=False,
        )

    def on_click(self, event: events.Click) -> None:
        line = self.scroll_offset.y + event.y
        if 0 <= line < len(self._lines):
            bi = self._lines[line][0]
            if bi == self.cursor:
                self.action_toggle_fold()
            else:
                self.cursor = bi
            self.focus()

    def signal_position(self) -> tuple[int, int]:
        """(1-based index of the signal at or before the cursor, total signals) for the status line."""
        marks = self.signal_blocks
        before = sum(1 for i in marks if i <= self.cursor)
        return before, len(marks)
