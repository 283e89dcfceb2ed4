"""Neutralize terminal control sequences in untrusted transcript text.

Codex tool outputs carry ANSI colour codes, cursor movement, OSC hyperlinks/titles and stray control bytes.
They break cell widths and borders in a terminal UI and can even act on the user's terminal when printed
(OSC 52 writes the clipboard, DCS/DECRQSS makes the terminal type an answer, RIS resets it), so the core strips
the common ones at ingest (:func:`strip_control_fast`) and every output path passes text through
:func:`terminal_safe` at its one boundary: the CLI console and Markdown/JSON writers in
``ccl_tui.commands.common``, the TUI line filter in ``ccl_tui.tui.widgets.safety``.
"""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), other 2-byte escapes, 8-bit C1 CSI/OSC.
_ANSI = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]            # CSI
    | \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)? # OSC ... BEL | ST
    | \x1b[PX^_][^\x1b]*(?:\x1b\\)?     # DCS / SOS / PM / APC ... ST
    | \x1b[@-Z\\-_]                     # 2-byte Fe escapes
    | \x1b.?                            # anything else after ESC
    | \x9b[0-?]*[ -/]*[@-~]             # 8-bit CSI
    | \x9d[^\x07\x9c]*[\x07\x9c]?       # 8-bit OSC
    """,
    re.VERBOSE,
)
# C0 controls except \t \n, plus DEL and the C1 range; \r is handled separately.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_HAS_SPECIAL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_control(text: str) -> str:
    """Remove ANSI escape sequences and control characters, keeping newlines and tabs.

    ``\\r\\n`` becomes ``\\n``; a bare ``\\r`` (progress-bar redraws) becomes a newline so no text hides another.
    """
    if not _HAS_SPECIAL.search(text):
        return text
    if "\x1b" in text or "\x9b" in text or "\x9d" in text:
        text = _ANSI.sub("", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


# Format characters that change what a reader sees without being seen: bidirectional embeddings, overrides,
# isolates and marks (they reorder a line: "Trojan Source"), zero-width spaces and invisible operators, the BOM,
# and tag characters (invisible "ASCII smuggling"). Zero-width (non-)joiners stay: scripts and emoji need them.
INVISIBLE_CHARS = "\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f"
#: A regex character class body: every character :func:`terminal_safe` removes (tab and newline are kept).
UNSAFE_CHARS = "\x00-\x08\x0b-\x1f\x7f-\x9f" + INVISIBLE_CHARS
_UNSAFE = re.compile(f"[{UNSAFE_CHARS}]")
_INVISIBLE = re.compile(f"[{INVISIBLE_CHARS}]")
_LINE_UNSAFE = re.compile(f"[\t\n{UNSAFE_CHARS}]")


def terminal_safe(text: str) -> str:
    """Untrusted text made safe to write to a terminal (or to paste): :func:`strip_control` (every escape
    sequence, 7- and 8-bit, and every C0/C1 control and DEL; tabs and newlines kept, a bare CR becomes a
    newline) plus the invisible bidi and zero-width characters removed. Idempotent; free on clean text."""
    if not _UNSAFE.search(text):
        return text
    return _INVISIBLE.sub("", strip_control(text))


def terminal_safe_line(text: str) -> str:
    """:func:`terminal_safe` for one rendered cell run (a segment of a screen line): tabs and newlines go too,
    since a raw one written to the terminal moves the cursor."""
    if not _LINE_UNSAFE.search(text):
        return text
    return terminal_safe(text).replace("\t", "").replace("\n", "")


def has_unsafe(text: str) -> bool:
    """Whether :func:`terminal_safe` would change ``text``."""
    return bool(_UNSAFE.search(text))


def has_unsafe_line(text: str) -> bool:
    """Whether :func:`terminal_safe_line` would change ``text``."""
    return bool(_LINE_UNSAFE.search(text))


_FAST_MARKERS = ("\x1b", "\r", "\x08", "\x00")


def strip_control_fast(text: str) -> str:
    """:func:`strip_control` for ingest: only pays for the full scan when a common marker is present.

    Each ``in`` test is a memchr over the text, about ten times faster than the character-class regex.
    Rarer controls that slip through (bell, vertical tab, 8-bit CSI...) are stripped by every view on display.
    """
    for marker in _FAST_MARKERS:
        if marker in text:
            return strip_control(text)
    return text
