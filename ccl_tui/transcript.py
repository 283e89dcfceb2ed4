"""Plain-text descriptions of events, shared by the CLI transcript and the TUI (no markup, no styling).

Everything returned here is derived from untrusted transcript text; callers must render it as plain text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ccl_tui.sources.model import Event, EventKind
from ccl_tui.text.ansi import strip_control

K = EventKind

LABELS: dict[str, str] = {
    K.USER_MESSAGE: "user",
    K.ASSISTANT_MESSAGE: "assistant",
    K.REASONING: "reasoning",
    K.CONTEXT: "context",
    K.TOOL_CALL: "call",
    K.TOOL_OUTPUT: "output",
    K.PATCH_APPLY: "patch",
    K.DENIAL: "denied",
    K.TURN_STARTED: "turn start",
    K.TURN_COMPLETED: "turn done",
    K.TURN_ABORTED: "aborted",
    K.TURN_CONTEXT: "settings",
    K.ERROR: "error",
    K.STREAM_ERROR: "stream error",
    K.WARNING: "warning",
    K.TOKEN_COUNT: "tokens",
    K.COMPACTION: "compaction",
    K.WEB_SEARCH: "web search",
    K.ROLLBACK: "rollback",
    K.REVIEW: "review",
    K.SNAPSHOT: "snapshot",
    K.OTHER: "other",
}


@dataclass(slots=True)
class EventLine:
    label: str
    headline: str  # one line
    body: str  # possibly multi-line detail (may be empty)
    tone: str  # "user" | "agent" | "tool" | "ok" | "bad" | "muted"


def first_line(text: str, width: int = 160) -> str:
    line = strip_control(text).strip().split("\n", 1)[0]
    return line if len(line) <= width else line[: width - 1] + "…"


def describe(e: Event) -> EventLine:
    """A label, a one-line headline and a body for an event, all plain text."""
    k = e.kind
    label = LABELS.get(k, str(k))
    body = strip_control(e.text)
    if k == K.USER_MESSAGE:
        return EventLine(label, first_line(e.text), body, "user")
    if k == K.ASSISTANT_MESSAGE:
        return EventLine(label, first_line(e.text), body, "agent")
    if k == K.REASONING:
        return EventLine(label, first_line(e.text), body, "muted")
    if k == K.TOOL_CALL:
        what = e.command or (f"{e.tool} ({len(e.data.get('files', []))} file(s))" if e.tool == "apply_patch" else e.tool)
        extra = " [asks escalation]" if e.data.get("escalated") else ""
        return EventLine(f"$ {e.tool or 'call'}", first_line(what or "") + extra, body, "tool")
    if k in (K.TOOL_OUTPUT, K.PATCH_APPLY):
        ok = e.success if e.success is not None else (e.exit_code == 0 if e.exit_code is not None else None)
        code = f"exit {e.exit_code}" if e.exit_code is not None else ("ok" if ok else "failed" if ok is False else "")
        if k == K.PATCH_APPLY:
            files = ", ".join(e.data.get("files", [])[:3])
            head = f"{'applied' if ok else 'FAILED' if ok is False else 'patch'} {files}".strip()
        else:
            dur = f" in {e.duration_ms / 1000:.1f}s" if e.duration_ms else ""
            head = f"{code}{dur}  {first_line(e.command or '', 100)}".strip()
        tone = "ok" if ok else "bad" if ok is False else "tool"
        return EventLine(label, head, body, tone)
    if k == K.DENIAL:
        return EventLine(label, f"user denied: {first_line(e.command or e.tool or '')}", body, "bad")
    if k == K.TURN_ABORTED:
        return EventLine(label, f"turn aborted ({e.status})", "", "bad")
    if k in (K.ERROR, K.STREAM_ERROR):
        return EventLine(label, first_line(e.text), body, "bad")
    if k == K.TOKEN_COUNT:
        d = e.data
        pct = f" ({100 * d['input'] / d['window']:.0f}% of window)" if d.get("input") and d.get("window") else ""
        return EventLine(label, f"input {d.get('input', '?')} / total {d.get('total', '?')}{pct}", "", "muted")
    if k == K.COMPACTION:
        return EventLine(label, "history compacted", body, "bad")
    if k == K.TURN_CONTEXT:
        d = e.data
        parts = [f"{key}={d[key]}" for key in ("model", "approval_policy", "sandbox") if d.get(key)]
        return EventLine(label, " ".join(parts), "", "muted")
    if k == K.TURN_COMPLETED:
        dur = f" in {e.duration_ms / 1000:.0f}s" if e.duration_ms else ""
        return EventLine(label, f"turn completed{dur}", "", "muted")
    if k == K.TURN_STARTED:
        return EventLine(label, "turn started", "", "muted")
    if k == K.CONTEXT:
        return EventLine(label, first_line(e.text, 100), "", "muted")
    if k == K.OTHER:
        return EventLine(label, e.raw_type, body, "muted")
    return EventLine(label, first_line(e.text), body, "muted")


def transcript_lines(events: list[Event], *, full: bool = False, width: int = 100) -> Iterator[str]:
    """Render events as plain text lines (used by ``ccl-tui show``)."""
    for e in events:
        if not full and e.kind in (K.TOKEN_COUNT, K.CONTEXT, K.TURN_CONTEXT):
            continue
        d = describe(e)
        yield f"#{e.seq:<5} t{e.turn:<3} {d.label:<12} {d.headline}"
        if d.body and (full or e.kind in (K.USER_MESSAGE, K.ASSISTANT_MESSAGE, K.TOOL_OUTPUT, K.ERROR,
                                          K.PATCH_APPLY, K.DENIAL)):
            lines = d.body.split("\n")
            if lines and lines[0].strip() == d.headline.strip():
                lines = lines[1:]  # the headline already shows it
            while lines and not lines[-1].strip():
                lines.pop()
            if not lines:
                continue
            limit = None if full else 12
            shown = lines[-limit:] if limit and e.kind in (K.TOOL_OUTPUT, K.PATCH_APPLY) else lines[:limit]
            if limit and len(lines) > limit:
                yield f"{'':22}… {len(lines) - limit} more line(s)"
            for line in shown:
                yield f"{'':22}{line[:width]}"
