"""The Rich console of the CLI's text output (see ``ccl_tui.commands.common.console``)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.text import Text

from ccl_tui.text.ansi import has_unsafe, terminal_safe


class SafeConsole(Console):
    """A Rich console that cannot write a terminal control sequence taken from data.

    Rendering is where every printable thing (``Text``, ``str``, tables, progress bars, ``log``) becomes
    segments, so the text of each segment is made :func:`terminal_safe` there, whatever the command built and
    however it was nested. Rich's own output is untouched: styles are applied after this (from ``Style``
    objects, not from text) and cursor-control segments (``Segment.control``, used by live displays) pass as
    they are. ``Text`` is cleaned before it is laid out too, so it wraps at the right places; a table column may
    still be measured a little wider than its cleaned cells need.
    """

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        if isinstance(renderable, Text) and has_unsafe(renderable.plain):
            renderable = self._clean_text(renderable)
        for segment in super().render(renderable, options):
            if segment.control or not has_unsafe(segment.text):
                yield segment
            else:
                text = terminal_safe(segment.text)
                if text:
                    yield Segment(text, segment.style)

    def _clean_text(self, text: Text) -> Text:
        if not text.spans:
            clean = text.copy()
            clean.plain = terminal_safe(text.plain)
            return clean
        clean = Text(
            justify=text.justify, overflow=text.overflow, no_wrap=text.no_wrap, end=text.end, tab_size=text.tab_size
        )
        for s in text.render(self, end=""):
            if not s.control:
                clean.append(terminal_safe(s.text), s.style)
        return clean
