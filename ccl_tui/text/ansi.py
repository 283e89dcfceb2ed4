"""Neutralize terminal control sequences in untrusted transcript text.

Codex tool outputs carry ANSI colour codes, cursor movement, OSC hyperlinks/titles and stray control bytes.
They break cell widths and borders in a terminal UI and can even act on the user's terminal when printed, so
the core strips them once at ingest and every view strips again before display.
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


def has_control(text: str) -> bool:
    return bool(_HAS_SPECIAL.search(text.replace("\r\n", "\n")))


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
