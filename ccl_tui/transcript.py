"""Plain-text descriptions of events, shared by the CLI transcript and the TUI (no markup, no styling).

Everything returned here is derived from untrusted transcript text; callers must render it as plain text.
It is already :func:`~ccl_tui.text.ansi.terminal_safe` (every field of an :class:`EventLine`, whichever event
field it came from: tool names, statuses, record types, settings), so line widths are right in every view.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ccl_tui.model.events import Event, EventKind
from ccl_tui.text.ansi import terminal_safe
from ccl_tui.text.cut import shorten

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


_AUTHORITATIVE = ("event_msg/exec_command_end", "event_msg/patch_apply_end", "event_msg/mcp_tool_call_end")
_RESULTS = (K.TOOL_OUTPUT, K.PATCH_APPLY, K.DENIAL)


def duplicate_seqs(events: list[Event], keep: set[int] | frozenset[int] = frozenset()) -> set[int]:
    """Records that repeat another record of the same real event, to show each event once.

    Codex writes a call's result more than once: the function output and, in 2026 builds, the
    ``exec_command_end`` / ``patch_apply_end`` / ``mcp_tool_call_end`` event; a web search as its call and its
    ``web_search_end``. Per call the authoritative record is kept (the end event, else the last result);
    unified-exec chunks of one command are one result. Seqs in ``keep`` (evidence, the focused event) stay.
    """
    by_call: dict[str, list[Event]] = {}
    searches: dict[tuple[int, str], list[Event]] = {}
    dup: set[int] = set()
    for e in events:
        if e.kind == K.TOOL_CALL and e.tool == "write_stdin" and not e.data.get("chars") and e.seq not in keep:
            dup.add(e.seq)  # a poll of a running command: its output belongs to that command
        elif e.kind in _RESULTS and e.call_id:
            by_call.setdefault(e.call_id, []).append(e)
        elif e.kind == K.WEB_SEARCH:
            searches.setdefault((e.turn, e.text), []).append(e)
    for group in (*by_call.values(), *searches.values()):
        if len(group) < 2:
            continue
        if group[0].kind == K.WEB_SEARCH:
            best = next((e for e in group if e.raw_type == "event_msg/web_search_end"), group[-1])
        else:
            # the record detectors cite (SessionView.Call.outcome): a refusal, the end event, else the last
            # record that decided anything
            decisive = [e for e in group if e.exit_code is not None or e.success is not None]
            best = (
                next((e for e in group if e.kind == K.DENIAL), None)
                or next((e for e in group if e.raw_type in _AUTHORITATIVE), None)
                or (decisive[-1] if decisive else group[-1])
            )
        dup.update(e.seq for e in group if e is not best and e.seq not in keep)
    return dup


def first_line(text: str, width: int = 160) -> str:
    return shorten(terminal_safe(text).strip().split("\n", 1)[0], width)


def describe(e: Event) -> EventLine:
    """A label, a one-line headline and a body for an event, all plain text, terminal-safe."""
    d = _describe(e)
    d.label = _one_line(d.label)
    d.headline = _one_line(d.headline)
    return d


def _one_line(text: str) -> str:
    return terminal_safe(text).replace("\n", " ")


def _describe(e: Event) -> EventLine:
    k = e.kind
    label = LABELS.get(k, str(k))
    body = terminal_safe(e.text)
    if k == K.USER_MESSAGE:
        return EventLine(label, first_line(e.text), body, "user")
    if k == K.ASSISTANT_MESSAGE:
        return EventLine(label, first_line(e.text), body, "agent")
    if k == K.REASONING:
        return EventLine(label, first_line(e.text), body, "muted")
    if k == K.TOOL_CALL:
        what = e.command or (
            f"{e.tool} ({len(e.data.get('files', []))} file(s))" if e.tool == "apply_patch" else e.tool
        )
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
            what = first_line(e.command or "", 100)
            if e.tool == "write_stdin":  # the poll itself failed (the session it wrote to was gone)
                what = f"write_stdin to `{what}`" if what else "write_stdin"
            elif e.tool and e.tool.count("__") >= 1 and not what:
                what = e.tool
            head = f"{code}{dur}  {what}".strip()
        tone = "ok" if ok else "bad" if ok is False else "tool"
        return EventLine(label, head, body, tone)
    if k == K.DENIAL:
        who = {
            "guardian": "refused by the approval reviewer",
            "policy": "blocked by a policy",
            "repeated": "refused again",
        }.get(str(e.data.get("rejection")), "user denied")
        return EventLine(label, f"{who}: {first_line(e.command or e.tool or '')}", body, "bad")
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


def transcript_lines(
    events: list[Event], *, full: bool = False, width: int = 100, keep: set[int] | frozenset[int] = frozenset()
) -> Iterator[str]:
    """Render events as plain text lines (used by ``ccl-tui show``): one line per real event (``--full``
    shows every record, repeats included)."""
    hidden = set() if full else duplicate_seqs(events, keep)
    for e in events:
        if not full and (e.kind in (K.TOKEN_COUNT, K.CONTEXT, K.TURN_CONTEXT) or e.seq in hidden):
            continue
        d = describe(e)
        yield f"#{e.seq:<5} t{e.turn:<3} {d.label:<12} {d.headline}"
        if d.body and (
            full or e.kind in (K.USER_MESSAGE, K.ASSISTANT_MESSAGE, K.TOOL_OUTPUT, K.ERROR, K.PATCH_APPLY, K.DENIAL)
        ):
            lines = d.body.split("\n")
            if lines and lines[0].strip().startswith(d.headline.strip().rstrip("…")):
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
