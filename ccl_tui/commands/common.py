"""Shared helpers for commands: opening the store, JSON output, a plain-text console.

This module is the CLI's one output boundary for untrusted text (issue 13): every command prints through
:func:`console` (a ``SafeConsole``: every rendered segment passes :func:`~ccl_tui.text.ansi.terminal_safe`),
:func:`print_text` (plain text such as the Markdown report) or :func:`print_json` (control and invisible
characters escaped as ``\\uXXXX``, so the data stays whole). No command writes to stdout any other way.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from ccl_tui.locations import default_db
from ccl_tui.store.db import Store
from ccl_tui.text.ansi import UNSAFE_CHARS, terminal_safe

if TYPE_CHECKING:
    from ccl_tui.commands.safe_console import SafeConsole

T = TypeVar("T")


def console(stderr: bool = False) -> SafeConsole:
    """The console every command prints through (Rich is imported when one is made, not by ``--json`` runs)."""
    from ccl_tui.commands.safe_console import SafeConsole

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
