"""Decode Codex tool-call arguments and tool outputs, whose shape changed with every era.

See the notes on `function_call_output.output`: a JSON string with ``metadata.exit_code`` (shell tool, 2025),
plain text with ``Exit code: N`` / ``Wall time`` headers (shell_command), unified-exec text with ``Process
exited with code N`` (2026), literal denial strings, ``aborted``, MCP ``CallToolResult`` JSON, or an object.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

import orjson

REJECTED_BY_USER = (
    "exec command rejected by user",
    "unified exec command rejected by user",
    "patch rejected by user",
)

#: The unified-exec header (2026), in Codex's fixed order; one match instead of four searches.
_UNIFIED = re.compile(
    r"Chunk ID: [^\n]*\nWall time: (?P<wall>[\d.]+) seconds\n"
    r"(?:Process exited with code (?P<code>-?\d+)|Process running with session ID (?P<proc>\d+))\n"
    r"(?:Original token count: [^\n]*\n)?Output:\n"
)
_EXIT_CODE = re.compile(r"^Exit code: (-?\d+)", re.MULTILINE)
_WALL_TIME = re.compile(r"^Wall time: ([\d.]+) seconds", re.MULTILINE)
_PROC_EXIT = re.compile(r"^Process exited with code (-?\d+)", re.MULTILINE)
_PROC_RUNNING = re.compile(r"^Process running with session ID (\d+)", re.MULTILINE)
_OUTPUT_HEADER = re.compile(r"^Output:\n", re.MULTILINE)
_SHELLS = {"bash", "sh", "zsh", "dash", "fish", "ksh", "pwsh", "powershell", "cmd", "cmd.exe", "powershell.exe"}
_SHELL_FLAGS = {"-c", "-lc", "-ic", "-l", "-Command", "-command", "/c", "/C", "-NoProfile"}


@dataclass(slots=True)
class DecodedOutput:
    text: str  # the output; its body starts at ``start`` (after unified-exec/shell headers)
    exit_code: int | None = None
    duration_ms: int | None = None
    success: bool | None = None
    status: str | None = None  # "rejected" | "aborted" | "running" | None
    process_id: str | None = None  # unified exec session still running
    start: int = 0

    @property
    def body(self) -> str:
        return self.text[self.start :] if self.start else self.text

    @property
    def size(self) -> int:
        return len(self.text) - self.start


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
        while i < len(parts) - 1 and parts[i] in _SHELL_FLAGS:
            i += 1
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


def decode_output(raw: Any) -> DecodedOutput:
    """Decode a ``function_call_output`` / ``custom_tool_call_output`` payload ``output``."""
    if isinstance(raw, list):
        return DecodedOutput(content_text(raw))
    if isinstance(raw, dict):
        return _decode_obj(raw) or DecodedOutput(orjson.dumps(raw).decode()[:4000])
    if not isinstance(raw, str):
        return DecodedOutput("" if raw is None else str(raw))
    s = raw
    if s.startswith("Chunk ID: "):
        u = _UNIFIED.match(s)
        if u is not None:
            code = int(u["code"]) if u["code"] is not None else None
            return DecodedOutput(
                s, exit_code=code, duration_ms=round(float(u["wall"]) * 1000),
                success=None if code is None else code == 0, status="running" if u["proc"] else None,
                process_id=u["proc"], start=u.end(),
            )  # fmt: skip
    head = s[:400].lstrip()
    first_line = head.split("\n", 1)[0].strip().lower()
    if first_line in REJECTED_BY_USER:
        return DecodedOutput(s.strip(), success=False, status="rejected")
    if first_line.startswith("aborted") and len(s) < 200:
        return DecodedOutput(s.strip(), success=False, status="aborted")
    if head[:1] == "{":
        obj = loads_maybe(s)
        if isinstance(obj, dict):
            decoded = _decode_obj(obj)
            if decoded is not None:
                return decoded
    head = s[:400]
    m = _PROC_EXIT.search(head) or _EXIT_CODE.search(head)
    running = _PROC_RUNNING.search(head)
    if m or running or head.startswith(("Chunk ID:", "Wall time:")):
        wall = _WALL_TIME.search(head)
        body_match = _OUTPUT_HEADER.search(s, 0, 600)
        code = int(m.group(1)) if m else None
        return DecodedOutput(
            s,
            start=body_match.end() if body_match else 0,
            exit_code=code,
            duration_ms=round(float(wall.group(1)) * 1000) if wall else None,
            success=None if code is None else code == 0,
            status="running" if running and code is None else None,
            process_id=running.group(1) if running else None,
        )
    if head.startswith(("err:", "tool call error", "Error:")):
        return DecodedOutput(s, success=False)
    return DecodedOutput(s)


def _decode_obj(obj: dict[str, Any]) -> DecodedOutput | None:
    meta = obj.get("metadata")
    if "output" in obj and isinstance(meta, dict):
        code = meta.get("exit_code")
        code = code if isinstance(code, int) else None
        dur = meta.get("duration_seconds")
        text = obj.get("output")
        return DecodedOutput(
            text if isinstance(text, str) else content_text(text),
            exit_code=code,
            duration_ms=round(dur * 1000) if isinstance(dur, int | float) else None,
            success=None if code is None else code == 0,
        )
    if "content" in obj and ("isError" in obj or "is_error" in obj or "structuredContent" in obj):
        is_err = obj.get("isError", obj.get("is_error"))
        return DecodedOutput(content_text(obj.get("content")), success=not bool(is_err))
    if "content" in obj and ("success" in obj or len(obj) == 1):
        ok = obj.get("success")
        return DecodedOutput(content_text(obj.get("content")), success=ok if isinstance(ok, bool) else None)
    return None


def duration_to_ms(value: Any) -> int | None:
    """serde Duration ``{"secs": N, "nanos": N}``, a number of seconds, or a string like ``"1.2s"``/``"350ms"``."""
    if isinstance(value, dict):
        secs = value.get("secs") or 0
        nanos = value.get("nanos") or 0
        if isinstance(secs, int | float) and isinstance(nanos, int | float):
            return round(secs * 1000 + nanos / 1e6)
        return None
    if isinstance(value, int | float):
        return round(value * 1000)
    if isinstance(value, str):
        m = re.fullmatch(r"\s*([\d.]+)\s*(ms|s|m)?\s*", value)
        if m:
            n = float(m.group(1))
            unit = m.group(2) or "s"
            return round(n if unit == "ms" else n * 60000 if unit == "m" else n * 1000)
    return None


PATCH_FILE = re.compile(r"^\*\*\* (?:Update|Add|Delete) File: (.+)$", re.MULTILINE)
PATCH_OK_FILE = re.compile(r"^[MAD] (.+)$", re.MULTILINE)


def patch_files(patch_text: str) -> list[str]:
    return [p.strip() for p in PATCH_FILE.findall(patch_text)]
