"""A small TOML writer for task.toml (tomllib reads TOML but the stdlib cannot write it).

Supports what task.toml needs: str, int, float, bool, lists of scalars, lists of tables (written inline) and
nested tables. Every string is a basic string with every control character escaped, so untrusted text can
never break out of its value.
"""

from __future__ import annotations

import math
import re
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def string(value: str) -> str:
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:  # lone surrogate: not representable in TOML (or UTF-8)
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else string(name)


def value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return "0.0"
        text = repr(v)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(v, str):
        return string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value(x) for x in v if x is not None) + "]"
    if isinstance(v, dict):
        items = ", ".join(f"{key(str(k))} = {value(x)}" for k, x in v.items() if x is not None)
        return "{" + items + "}" if items else "{}"
    return string(str(v))


def dumps(doc: dict[str, Any]) -> str:
    """TOML text for ``doc``: scalars first, then one [table] per nested dict (depth first). None is omitted."""
    lines: list[str] = []
    _table(doc, [], lines)
    return "\n".join(lines).strip() + "\n"


def _table(table: dict[str, Any], path: list[str], lines: list[str]) -> None:
    scalars = [(k, v) for k, v in table.items() if v is not None and not isinstance(v, dict)]
    tables = [(k, v) for k, v in table.items() if isinstance(v, dict)]
    if path and (scalars or not tables):
        lines.append("")
        lines.append("[" + ".".join(key(p) for p in path) + "]")
    for k, v in scalars:
        lines.append(f"{key(str(k))} = {value(v)}")
    for k, v in tables:
        _table(v, [*path, str(k)], lines)
