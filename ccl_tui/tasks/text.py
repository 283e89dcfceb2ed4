"""Session text made safe to write into a task: control characters stripped, credentials redacted, capped."""

from __future__ import annotations

from ccl_tui.text.ansi import strip_control
from ccl_tui.text.redact import redact


def clean(text: str | None, limit: int | None = None) -> str:
    """``text`` without terminal control sequences and with every credential replaced by a marker."""
    if not text:
        return ""
    out = redact(strip_control(text))
    if limit is not None and len(out) > limit:
        out = out[: max(limit - 1, 0)].rstrip() + "…"
    return out


def clean_line(text: str | None, limit: int = 300) -> str:
    """:func:`clean` on one line: newlines and tabs become spaces."""
    return " ".join(clean(text).split())[:limit]
