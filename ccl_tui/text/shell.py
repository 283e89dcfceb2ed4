"""Small shell-text helpers shared by the lexers that read recorded commands (signatures, task paths, writes)."""

from __future__ import annotations


def closing(s: str, i: int, open_: str, close: str) -> int:
    """Index just past the ``close`` that matches the ``open_`` at ``s[i]`` (quotes and backslash escapes
    skipped, nesting counted); ``len(s)`` when it is never closed."""
    depth, quote, j = 0, None, i
    while j < len(s):
        c = s[j]
        if quote:
            if c == "\\" and quote == '"':
                j += 2
                continue
            if c == quote:
                quote = None
        elif c == "\\":
            j += 2
            continue
        elif c in "'\"":
            quote = c
        elif c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return len(s)
