"""Plain dataclasses for normalized Codex sessions and events: the product's trace spine.

Every later layer (signals, issues, tasks, semantic, TUI) reads these from the store; none re-parses files.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    USER_MESSAGE = "user_message"  # a prompt the user typed
    ASSISTANT_MESSAGE = "assistant_message"
    REASONING = "reasoning"  # reasoning summary text (never encrypted content)
    CONTEXT = "context"  # injected context (AGENTS.md, environment, developer/permissions instructions)
    TOOL_CALL = "tool_call"  # shell/exec/MCP/apply_patch/other function call
    TOOL_OUTPUT = "tool_output"  # a result for a call (function output, exec end, MCP end)
    PATCH_APPLY = "patch_apply"  # result of an apply_patch (success, files)
    DENIAL = "denial"  # approval denied by the user (rejected-by-user output or declined status)
    TURN_STARTED = "turn_started"
    TURN_COMPLETED = "turn_completed"
    TURN_ABORTED = "turn_aborted"
    TURN_CONTEXT = "turn_context"  # per-turn settings: model, cwd, approval and sandbox policy
    ERROR = "error"
    STREAM_ERROR = "stream_error"
    WARNING = "warning"
    TOKEN_COUNT = "token_count"
    COMPACTION = "compaction"
    WEB_SEARCH = "web_search"
    ROLLBACK = "rollback"  # the user backtracked / undid turns (thread_rolled_back, undo_completed)
    REVIEW = "review"  # entered / exited review mode
    SNAPSHOT = "snapshot"  # ghost commit (undo checkpoint)
    OTHER = "other"  # a record type this version does not know: kept with its raw type name


#: Column order of an event row, as stored in the ``events`` table. The parser puts the session's uuid in
#: the first column; the writer replaces it with the session's integer key (``sessions.sid``).
EVENT_COLUMNS = (
    "sid",
    "seq",
    "kind",
    "raw_type",
    "line",
    "ts",
    "turn",
    "call_id",
    "tool",
    "command",
    "workdir",
    "exit_code",
    "duration_ms",
    "success",
    "status",
    "text_size",
    "data",
    "text",
)


class Origin(StrEnum):
    """Who drove the session; reports never silently mix automated runs into user friction."""

    INTERACTIVE = "interactive"  # codex TUI / CLI
    EXEC = "exec"  # `codex exec` (scripted / CI)
    IDE = "ide"  # VS Code extension, Desktop app
    SUBAGENT = "subagent"  # spawned by another agent
    REVIEW = "review"  # /review sub-agent
    OTHER = "other"


@dataclass(slots=True)
class Event:
    """One normalized event of a session, in order. ``seq`` is its 0-based position in the session."""

    seq: int
    kind: EventKind | str
    raw_type: str  # e.g. "response_item/function_call", "event_msg/exec_command_end"
    line: int  # 1-based line number in the source file
    timestamp: str | None = None  # ISO-8601 UTC as written by Codex (None in the legacy era)
    turn: int = 0  # 0 = before the first prompt; turn N starts with the Nth prompt
    call_id: str | None = None  # effective call id (write_stdin output -> the exec call it continues)
    tool: str | None = None  # tool name of the call (shell, exec_command, apply_patch, mcp__x__y...)
    command: str | None = None  # shell command as one string
    workdir: str | None = None
    exit_code: int | None = None
    duration_ms: int | None = None
    success: bool | None = None
    status: str | None = None  # declined / failed / completed / timeout / abort reason / phase...
    text: str = ""  # main text, capped and control-code free
    text_size: int = 0  # size of the full original text in characters
    data: dict[str, Any] = field(default_factory=dict)  # kind-specific extras (files, tokens...)

    @property
    def truncated(self) -> bool:
        return self.text_size > len(self.text)


@dataclass(slots=True)
class Session:
    id: str
    path: str
    era: str = "enveloped"  # "enveloped" (cli >= 0.38) or "legacy" (unenveloped, mid 2025)
    started_at: str | None = None
    ended_at: str | None = None
    cwd: str | None = None
    originator: str | None = None
    source: str | None = None  # raw-ish: cli, exec, vscode, mcp, subagent:review, subagent:thread_spawn...
    origin: str = Origin.OTHER.value
    cli_version: str | None = None
    model: str | None = None
    model_provider: str | None = None
    git_commit: str | None = None
    git_branch: str | None = None
    git_repo_url: str | None = None
    forked_from: str | None = None
    parent_id: str | None = None  # parent thread of a sub-agent
    instructions_size: int = 0

    @property
    def repo(self) -> str:
        """A short repository name: from the git url when known, else the cwd's last component."""
        return repo_name(self.git_repo_url, self.cwd)


def repo_name(git_repo_url: str | None, cwd: str | None) -> str:
    url = (git_repo_url or "").strip().rstrip("/")
    if url:
        tail = url.replace(":", "/").rsplit("/", 1)[-1]
        if tail.endswith(".git"):
            tail = tail[:-4]
        if tail:
            return tail
    if cwd:
        tail = cwd.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        if tail:
            return tail
    return "(unknown)"


def origin_of(source: str | None, originator: str | None) -> str:
    """Map Codex's `source` / `originator` to an Origin label."""
    s = (source or "").lower()
    o = (originator or "").lower()
    if s.startswith("subagent"):
        return Origin.REVIEW.value if "review" in s else Origin.SUBAGENT.value
    if s == "exec" or "exec" in o:
        return Origin.EXEC.value
    if s == "cli" or o in {"codex_cli_rs", "codex-tui", "codex_tui"}:
        return Origin.INTERACTIVE.value
    if s == "vscode" or "vscode" in o or "desktop" in o:
        return Origin.IDE.value
    if s == "mcp" or "sdk" in o:
        return Origin.EXEC.value
    if not s and not o:
        return Origin.INTERACTIVE.value  # legacy era: only the interactive CLI wrote these files
    return Origin.OTHER.value


def agent_of(originator: str | None) -> str:
    """Which agent wrote a session: Claude Code's reader sets its originator; every other session is Codex's."""
    return "claude_code" if originator == "claude_code" else "codex"


def ts_epoch(ts: str | None) -> float | None:
    """Seconds since the epoch of a Codex ISO-8601 timestamp (``2026-10-05T09:00:00.123Z``), or None."""
    if not ts:
        return None
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def row_to_event(r: Sequence[Any]) -> Event:
    """An Event from a row in EVENT_COLUMNS order (``data`` as a JSON string)."""
    import orjson

    (
        _,
        seq,
        kind,
        raw_type,
        line,
        ts,
        turn,
        call_id,
        tool,
        command,
        workdir,
        exit_code,
        duration_ms,
        success,
        status,
        text_size,
        data,
        text,
    ) = r
    return Event(
        seq=seq,
        kind=kind,
        raw_type=raw_type or "",
        line=line or 0,
        timestamp=ts,
        turn=turn,
        call_id=call_id,
        tool=tool,
        command=command,
        workdir=workdir,
        exit_code=exit_code,
        duration_ms=duration_ms,
        success=None if success is None else bool(success),
        status=status,
        text=text or "",
        text_size=text_size or 0,
        data=orjson.loads(data) if data else {},
    )


def events_from_rows(rows: Iterable[Sequence[Any]]) -> list[Event]:
    """A session's events from its rows in EVENT_COLUMNS order, with a repeated output's text restored (the
    store keeps a call's repeated output once and points the repeat at it: ``data.same_text_as``)."""
    events = [row_to_event(r) for r in rows]
    by_seq = {e.seq: e for e in events}
    for e in events:
        ref = e.data.get("same_text_as")
        if ref is not None and not e.text and ref in by_seq:
            e.text = by_seq[ref].text
    return events
