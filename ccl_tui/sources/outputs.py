"""Decode Codex tool-call arguments (JSON strings, argv lists, shell-invoked apply_patch) and small value
shapes (durations, message content lists). What a call's *result* means is decided in ``outcome``."""

from __future__ import annotations

import re
import shlex
from typing import Any

import orjson

from ccl_tui.text.ansi import strip_control_fast

_SHELLS = {"bash", "sh", "zsh", "dash", "fish", "ksh", "pwsh", "powershell", "cmd", "cmd.exe", "powershell.exe"}
_SHELL_FLAGS = {
    "-c",
    "-lc",
    "-ic",
    "-l",
    "-Command",
    "-command",
    "/c",
    "/C",
    "-NoProfile",
    "-NoLogo",
    "-NonInteractive",
    "-noprofile",
    "-nologo",
    "-noninteractive",
    "/d",
    "/D",
    "/s",
    "/S",
}
_SHELL_FLAGS_WITH_VALUE = {"-ExecutionPolicy", "-executionpolicy", "-OutputFormat", "-InputFormat"}


def loads_maybe(value: Any) -> Any:
    """JSON-decode a string that may or may not be JSON (model-produced ``arguments`` often aren't)."""
    if isinstance(value, str):
        s = value.lstrip()
        if s[:1] in ("{", "["):
            try:
                return orjson.loads(s)
            except orjson.JSONDecodeError:
                return value
    return value


def argv_to_command(argv: Any) -> str:
    """Render an argv list as one command string, unwrapping ``bash -lc '<cmd>'`` to ``<cmd>``."""
    if isinstance(argv, str):
        return argv
    if not isinstance(argv, list) or not argv:
        return ""
    parts = [str(a) for a in argv]
    head = parts[0].replace("\\", "/").rsplit("/", 1)[-1]
    if head in _SHELLS and len(parts) >= 3:
        i = 1
        while i < len(parts) - 1 and (parts[i] in _SHELL_FLAGS or parts[i] in _SHELL_FLAGS_WITH_VALUE):
            i += 2 if parts[i] in _SHELL_FLAGS_WITH_VALUE else 1
        if i > 1 and i == len(parts) - 1:
            return parts[i]
    return shlex.join(parts)


def content_text(content: Any) -> str:
    """Text of a message/tool ``content`` list (input_text/output_text items); images are never kept."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    out = []
    for item in content:
        if isinstance(item, dict):
            t = item.get("text")
            if isinstance(t, str):
                out.append(t)
            elif item.get("type") in ("input_image", "image"):
                out.append("[image]")
        elif isinstance(item, str):
            out.append(item)
    return "\n".join(out)


INT64_MAX = (1 << 63) - 1
#: Durations beyond a week are not durations a log means (2^64-1, 1e308...): treated as unknown.
_MAX_MS = 7 * 86_400_000


def int64(value: Any) -> int | None:
    """``value`` when it is an int SQLite and JSON can hold (bools are not ints here), else None."""
    if type(value) is int and -INT64_MAX - 1 <= value <= INT64_MAX:
        return value
    return None


def int_text(digits: str) -> int | None:
    """An integer written in a log's text (``Process exited with code 99999999999999999999``), if sane."""
    return int(digits) if len(digits.lstrip("-")) <= 18 else None


def duration_to_ms(value: Any) -> int | None:
    """serde Duration ``{"secs": N, "nanos": N}``, a number of seconds, or a string like ``"1.2s"``/``"350ms"``.
    Anything that is not a finite, plausible duration (negative, NaN, 1e308, ``"1.2.3s"``) is None."""
    ms: float | None = None
    if isinstance(value, dict):
        secs = value.get("secs") or 0
        nanos = value.get("nanos") or 0
        if isinstance(secs, int | float) and isinstance(nanos, int | float) and not isinstance(secs, bool):
            ms = secs * 1000 + nanos / 1e6
    elif isinstance(value, int | float) and not isinstance(value, bool):
        ms = value * 1000
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*", value)
        if m:
            n = float(m.group(1))
            unit = m.group(2) or "s"
            ms = n if unit == "ms" else n * 60000 if unit == "m" else n * 1000
    if ms is None or ms != ms or not 0 <= ms <= _MAX_MS:
        return None
    return round(ms)


_PATCH_PROGRAMS = ("apply_patch", "applypatch")
#: ``apply_patch <<'EOF'`` (any tag, quoted or not), optionally after ``cd DIR &&``.
_SHELL_PATCH = re.compile(r"^\s*(?:cd\s+(?:'[^']*'|\"[^\"]*\"|\S+)\s*&&\s*)?(?:apply_patch|applypatch)(?:\s|$)")
_PATCH_BODY = re.compile(r"\*\*\* Begin Patch.*?(?:\*\*\* End Patch|\Z)", re.S)


def shell_patch(cmd: Any) -> str | None:
    """The patch text when a shell command is an apply_patch invocation, which Codex intercepts and applies
    itself: ``["apply_patch", "*** Begin Patch…"]``, ``bash -lc "apply_patch <<'PATCH' … PATCH"`` (any heredoc
    tag), or the same as a ``shell_command`` / ``exec_command`` string, optionally after ``cd DIR &&``."""
    if isinstance(cmd, list) and cmd:
        head = str(cmd[0]).replace("\\", "/").rsplit("/", 1)[-1]
        if head in _PATCH_PROGRAMS and len(cmd) > 1 and isinstance(cmd[1], str) and "*** Begin Patch" in cmd[1]:
            return cmd[1]
        cmd = argv_to_command(cmd)
    if not isinstance(cmd, str) or "*** Begin Patch" not in cmd or not _SHELL_PATCH.match(cmd[:300]):
        return None
    m = _PATCH_BODY.search(cmd)
    return m[0] if m else None


PATCH_FILE = re.compile(r"^\*\*\* (?:Update|Add|Delete) File: (.+)$", re.MULTILINE)
PATCH_OK_FILE = re.compile(r"^[MAD] (.+)$", re.MULTILINE)


def patch_files(patch_text: str) -> list[str]:
    return [p.strip() for p in PATCH_FILE.findall(patch_text)]


def capped(text: str, cap: int) -> str:
    """``text`` cut to ``cap`` characters, control codes removed (how every stored text is kept)."""
    if len(text) > cap:
        text = text[:cap]
    return strip_control_fast(text)
