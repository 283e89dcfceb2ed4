"""Session text made safe to write into a task: control characters stripped, credentials redacted, capped.

Order matters: redaction always sees the full text, and only its result is normalised or cut. A secret cut
first (``Bearer abc…``, a private key flattened to one line and cut at 200 characters) can no longer be
recognised, and its visible part would leak. Every excerpt of session text in ccl_tui.tasks goes through
:func:`clean` or :func:`clean_line` (or redacts the full text itself before cutting it).
"""

from __future__ import annotations

from ccl_tui.text.ansi import strip_control
from ccl_tui.text.cut import clip, shorten
from ccl_tui.text.redact import redact


def clean(text: str | None, limit: int | None = None) -> str:
    """``text`` without terminal control sequences and with every credential replaced by a marker."""
    if not text:
        return ""
    out = redact(strip_control(text))
    return out if limit is None else clip(out, limit)


def clean_line(text: str | None, limit: int = 300) -> str:
    """:func:`clean` on one line: newlines and tabs become spaces; a longer line is cut at a word boundary."""
    return shorten(" ".join(clean(text).split()), limit)
