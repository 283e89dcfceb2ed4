"""Shared helpers for commands: opening the store, JSON output, a plain-text console.

This module is the CLI's one output boundary for untrusted text (issue 13): every command prints through
:func:`console` (a :class:`SafeConsole`: every rendered segment passes :func:`~ccl_tui.text.ansi.terminal_safe`),
:func:`print_text` (plain text such as the Markdown report) or :func:`print_json` (control and invisible
characters escaped as ``\\uXXXX``, so the data stays whole). No command writes to stdout any other way.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import orjson
from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.text import Text

from ccl_tui.locations import default_db
from ccl_tui.store.db import Store
from ccl_tui.text.ansi import UNSAFE_CHARS, has_unsafe, terminal_safe

T = TypeVar("T")


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


def console(stderr: bool = False) -> Console:
    # markup/highlight off: every string we print may come from an untrusted transcript.
    return SafeConsole(stderr=stderr, markup=False, highlight=False, emoji=False)


def print_text(text: str, *, stderr: bool = False) -> None:
    """Print plain text (not through Rich), e.g. the Markdown report, made :func:`terminal_safe`."""
    print(terminal_safe(text), file=sys.stderr if stderr else sys.stdout)


def db_path(arg: str | None) -> Path:
    return Path(arg).expanduser() if arg else default_db()


# orjson escapes C0 controls (JSON requires it) but writes DEL, the C1 controls (which a UTF-8 terminal runs as
# 8-bit CSI/OSC...) and bidi/zero-width characters raw. They can only occur inside JSON strings, where
# ``\uXXXX`` means the same character: escaping them keeps the data exact and the output inert.
_JSON_UNSAFE = re.compile(f"[{UNSAFE_CHARS}]")


def _json_escape(match: re.Match[str]) -> str:
    cp = ord(match.group())
    if cp > 0xFFFF:  # a surrogate pair, as JSON spells characters beyond the BMP
        cp -= 0x10000
        return f"\\u{0xD800 + (cp >> 10):04x}\\u{0xDC00 + (cp & 0x3FF):04x}"
    return f"\\u{cp:04x}"


def json_bytes(value: Any) -> bytes:
    """``value`` as indented JSON that is safe to write to a terminal (see ``_JSON_UNSAFE``)."""
    data = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    text = data.decode()
    if _JSON_UNSAFE.search(text):
        data = _JSON_UNSAFE.sub(_json_escape, text).encode()
    return data


def print_json(value: Any) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(json_bytes(value))
    sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()


def run_with_store(db: str | None, fn: Callable[[Store], Awaitable[T]]) -> T:
    """Run ``fn`` on the opened store. A database that cannot be used raises ``StoreError`` (one line; the CLI
    prints it without a traceback); a read-only one is opened for reading, with a note on stderr."""
    import sqlite3

    from ccl_tui.store.db import database_error

    path = db_path(db)

    async def main() -> T:
        store = await Store.open(path)
        try:
            if store.readonly_note:
                print(f"ccl-tui: note: {store.readonly_note}", file=sys.stderr)
            return await fn(store)
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except sqlite3.Error as exc:  # e.g. damage found past the header, in the middle of a query
        raise database_error(path, exc) from None
