"""Numbers as people read them in tables, charts and notes."""

from __future__ import annotations


def pct(x: float) -> str:
    """A fraction as a whole percentage: ``0.456`` -> ``"46%"``."""
    return f"{100 * x:.0f}%"
