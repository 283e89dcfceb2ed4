"""Shorten text for a title, a line or a cell, ended with an ellipsis: at a word boundary (:func:`shorten`) or
exactly at the width (:func:`clip`)."""

from __future__ import annotations


def shorten(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters: cut at the last space before the limit (if that keeps at least
    two thirds of it; a long path or token is cut where it must) and ended with "…"."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    head = text[: width - 1]
    space = head.rfind(" ")
    if space >= (width * 2) // 3:
        head = head[:space]
    return head.rstrip(" ,;:-(") + "…"


def clip(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, cut exactly at the limit (for table cells and fixed columns,
    where a word-boundary cut would waste room) and ended with "…"."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    return text[: width - 1].rstrip() + "…"
