"""The TUI's one output boundary for untrusted text: a line filter over everything the screen draws.

Textual draws every widget (tables, statics, the header, toasts, inputs, the command palette...) as lines of
segments and passes each line through the app's line filters before the compositor writes it to the terminal.
:class:`TerminalSafeFilter` is one of them: any segment text carrying a control byte, an escape sequence or an
invisible bidi/zero-width character is made :func:`~ccl_tui.text.ansi.terminal_safe_line`, so no string from
a session can act on the terminal however a screen displays it. Screens still clean the text they are given
(``terminal_safe``), so widths are measured right; this filter is the guarantee, not the layout.

The app adds it to the filters Textual applies (``CclApp.get_line_filters``, Textual's public hook, which every
widget's rendering reads), so it covers every screen from the first frame.
"""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from ccl_tui.text.ansi import has_unsafe_line, terminal_safe_line


class TerminalSafeFilter(LineFilter):
    """Strip control sequences from every segment of a rendered line, keeping the line's cell width."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        if not any(has_unsafe_line(s.text) for s in segments if not s.control):
            return segments
        out: list[Segment] = []
        for segment in segments:
            text, style, control = segment
            if control or not has_unsafe_line(text):
                out.append(segment)
                continue
            # The strip's width was measured with the sequence's printable bytes in it: pad (or crop) the
            # cleaned text to the same cells so nothing after it on the line moves.
            width = cell_len(text)
            safe = set_cell_size(terminal_safe_line(text), width) if width else ""
            if safe:
                out.append(Segment(safe, style))
        return out
