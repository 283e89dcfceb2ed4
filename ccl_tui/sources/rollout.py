"""Normalize Codex rollout records (both on-disk eras) into ordered :class:`Event` objects.

The parser is incremental: all it needs to continue a file that grew is its :class:`ParseState`, which is
plain JSON and saved with the file's byte offset in the store. Rules (see docs/format notes):

* Enveloped era (cli >= 0.38): ``{"timestamp","type","payload"}``. Typed prompts come from
  ``event_msg/user_message``; user/developer ``response_item`` messages are injected context. Assistant text
  and reasoning come from ``response_item``; their ``event_msg`` echoes are dropped as duplicates.
* Legacy era: a bare header line, ``record_type: state`` markers and bare response items.
* A fork or sub-agent file replays its parent's history right after a copy of the parent's ``session_meta``;
  those replayed lines (written in one burst) are skipped, so a fork counts only its own lines.
* Unknown record types become ``other`` events with their raw type name: nothing is silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from ccl_tui.model.events import EventKind, Session, origin_of, ts_epoch
from ccl_tui.sources.claude_code import ClaudeCodeReader, is_claude_record
from ccl_tui.sources.outcome import (
    Outcome,
    Rejection,
    Status,
    classify_exec_end,
    classify_mcp_end,
    classify_output,
    classify_patch_end,
)
from ccl_tui.sources.outputs import (
    PATCH_OK_FILE,
    argv_to_command,
    capped,
    content_text,
    int64,
    loads_maybe,
    patch_files,
    shell_patch,
)
from ccl_tui.text.ansi import strip_control_fast as strip_control

K = EventKind
_dumps = orjson.dumps

#: Stored text caps (characters). Outputs keep head and tail: errors are usually at the end.
CAP_MESSAGE = 16_000
CAP_OUTPUT_HEAD = 1_200
CAP_OUTPUT_TAIL = 3_600
CAP_PATCH = 64_000
CAP_CONTEXT = 1_000
CAP_OTHER = 500
#: Lines written within this many seconds after a foreign session_meta are the parent's replayed history.
REPLAY_WINDOW_S = 1.0
MAX_TRACKED_CALLS = 512

_UUID_IN_NAME = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})", re.I)
_CWD_TAG = re.compile(r"<cwd>(.*?)</cwd>", re.S)
_INJECTED_PREFIXES = ("<", "# AGENTS.md", "# agents.md")
_DROPPED_EVENT_MSGS = frozenset(
    {
        "agent_message",  # echo of the assistant response_item
        "agent_reasoning",  # echo of the reasoning response_item
        "agent_reasoning_raw_content",
        "agent_reasoning_section_break",
        "exec_command_begin",  # the call is the function_call; the end carries the result
        "patch_apply_begin",
        "mcp_tool_call_begin",
        "web_search_begin",
        "agent_message_delta",
        "agent_reasoning_delta",
        "agent_reasoning_raw_content_delta",
        "exec_command_output_delta",
        "turn_diff",
        "plan_update",  # the update_plan function_call is kept
    }
)


def capped_output(text: str, start: int = 0) -> str:
    """Head and tail of a long output (from ``start``), with an explicit marker of what was left out.

    Slices only what is kept: multi-megabyte outputs are never copied whole.
    """
    n = len(text) - start
    if n <= CAP_OUTPUT_HEAD + CAP_OUTPUT_TAIL:
        return strip_control(text[start:] if start else text)
    omitted = n - CAP_OUTPUT_HEAD - CAP_OUTPUT_TAIL
    head = text[start : start + CAP_OUTPUT_HEAD]
    return strip_control(f"{head}\n[... ccl-tui: {omitted} characters omitted ...]\n{text[-CAP_OUTPUT_TAIL:]}")


_NAME_TS = re.compile(r"rollout-(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})")


def ts_from_name(name: str) -> str | None:
    """The creation time in a rollout file name (``rollout-2025-08-20T13-20-47-<uuid>.jsonl``; local time,
    read as UTC: an approximation used only when the file records no time at all)."""
    m = _NAME_TS.search(name)
    return f"{m[1]}T{m[2]}:{m[3]}:{m[4]}.000Z" if m else None


def session_id_from_name(name: str) -> str | None:
    found = _UUID_IN_NAME.findall(name)
    return found[-1].lower() if found else None


@dataclass
class ParseState:
    """Everything needed to continue parsing a file from a byte offset. JSON-serializable."""

    session: dict[str, Any] | None = None
    name_id: str | None = None
    era: str | None = None
    seq: int = 0
    turn: int = 0
    turn_state: str = "closed"  # closed | started | open
    replay_until: float | None = None  # skip lines up to this epoch time (fork replay burst)
    calls: dict[str, list[Any]] = field(default_factory=dict)  # call_id -> [tool, command, workdir, files]
    processes: dict[str, str] = field(default_factory=dict)  # unified-exec session id -> call_id
    last_tokens: dict[str, Any] | None = None
    last_context: dict[str, Any] | None = None
    last_context_turn: int = -1
    last_compaction_line: int = -100
    last_ts: str | None = None
    ts_source: str | None = None  # where times come from when lines carry none (legacy era)
    skipped_replay: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # what another format's reader keeps (Claude Code)

    def to_json(self) -> bytes:
        return orjson.dumps({name: getattr(self, name) for name in self.__dataclass_fields__})

    @classmethod
    def from_json(cls, raw: bytes | str | None) -> ParseState:
        if not raw:
            return cls()
        data = orjson.loads(raw)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


class RolloutParser:
    """Turns decoded JSON records of one rollout file into events, keeping the file's session metadata."""

    def __init__(self, file_name: str, path: str, state: ParseState | None = None) -> None:
        self.state = state or ParseState(name_id=session_id_from_name(file_name))
        self._name_ts = ts_from_name(file_name)
        self.path = path
        self.session: Session | None = Session(**self.state.session) if self.state.session else None
        self.rows: list[tuple] = []
        # Last stored output per call, to store a repeated one once. In memory only: a repeat that
        # straddles two ingest runs is simply stored twice.
        self._outputs: dict[str, tuple[str, int]] = {}
        self._claude: ClaudeCodeReader | None = None

    # ------------------------------------------------------------------ entry point
    def feed(self, line_no: int, obj: Any) -> None:
        if obj.__class__ is not dict:
            self._other(line_no, None, "non-object", obj)
            return
        st = self.state
        if st.era == "claude":
            self._claude_reader().feed(line_no, obj)
            return
        rtype = obj.get("type")
        payload = obj.get("payload")
        if st.era is None:
            if is_claude_record(obj):
                st.era = "claude"
                self._claude_reader().feed(line_no, obj)
                return
            if isinstance(rtype, str) and "payload" in obj:
                st.era = "enveloped"
            elif "id" in obj and "type" not in obj:
                st.era = "legacy"
                self._legacy_header(line_no, obj)
                return
            else:
                st.era = "legacy" if "type" in obj else "enveloped"
        if st.era == "legacy":
            self._legacy_line(line_no, obj)
            return
        ts = obj.get("timestamp")
        if ts.__class__ is not str:
            ts = None
        if rtype == "session_meta":
            self._session_meta(line_no, ts, payload if isinstance(payload, dict) else {})
            return
        if st.replay_until is not None:
            t = ts_epoch(ts)
            if t is not None and t <= st.replay_until:
                st.skipped_replay += 1
                return
            st.replay_until = None
        if self.session is None:
            if st.name_id is None:
                return  # no identity yet (not a rollout, or meta still to come): nothing to attach to
            self._ensure_session(st.name_id)
        if ts:
            st.last_ts = ts
        if payload.__class__ is not dict:
            payload = {"value": payload}
        if rtype == "response_item":
            self._response_item(line_no, ts, payload)
        elif rtype == "event_msg":
            self._event_msg(line_no, ts, payload)
        elif rtype == "turn_context":
            self._turn_context(line_no, ts, payload)
        elif rtype == "compacted":
            self._compaction(line_no, ts, "compacted", payload)
        else:
            self._other(line_no, ts, str(rtype), payload)

    def _claude_reader(self) -> ClaudeCodeReader:
        """The reader of Claude Code records, which writes through this parser's helpers and state."""
        reader = self._claude
        if reader is None:
            reader = self._claude = ClaudeCodeReader(self)
        return reader

    # ------------------------------------------------------------------ session metadata
    def _ensure_session(self, sid: str) -> Session:
        if self.session is None:
            self.session = Session(id=sid, path=self.path, era=self.state.era or "enveloped")
        return self.session

    def _session_meta(self, line_no: int, ts: str | None, p: dict[str, Any]) -> None:
        st = self.state
        raw_id = p.get("id")
        sid = raw_id.strip().lower() or None if isinstance(raw_id, str) else None
        if self.session is None and sid and st.name_id and sid != st.name_id and st.seq == 0:
            # Codex writes a file's own meta first: a renamed file keeps its session id, whatever its name.
            st.name_id = sid
        own = st.name_id or (sid if self.session is None else self.session.id)
        if sid and own and sid != own:
            # A copy of the parent's meta: the parent's history follows, replayed in one burst.
            t = ts_epoch(ts)
            if self.session is not None and t is not None:
                st.replay_until = t + REPLAY_WINDOW_S
            elif self.session is None:
                st.replay_until = float("inf")  # until our own meta line
            if self.session is not None and not self.session.forked_from and not self.session.parent_id:
                self.session.forked_from = sid
            return
        if sid is None and own is None:
            return
        st.replay_until = None
        s = self._ensure_session(own or sid or "")
        if s.started_at and s.originator:
            return  # a resumed session re-writing its own meta: keep the first
        self._apply_meta(s, p)

    def _apply_meta(self, s: Session, p: dict[str, Any]) -> None:
        s.started_at = s.started_at or _str(p.get("timestamp"))
        s.cwd = s.cwd or _str(p.get("cwd"))
        s.originator = s.originator or _str(p.get("originator"))
        s.cli_version = s.cli_version or _str(p.get("cli_version"))
        s.model_provider = s.model_provider or _str(p.get("model_provider"))
        s.model = s.model or _str(p.get("model"))
        src = p.get("source")
        if src is not None or "originator" in p:
            s.source, s.parent_id = _source(src if src is not None else "vscode")
        s.forked_from = s.forked_from or _str(p.get("forked_from_id"))
        git = p.get("git")
        if isinstance(git, dict):
            s.git_commit = s.git_commit or _str(git.get("commit_hash"))
            s.git_branch = s.git_branch or _str(git.get("branch"))
            s.git_repo_url = s.git_repo_url or _str(git.get("repository_url"))
        instr = p.get("instructions") or p.get("base_instructions")
        if isinstance(instr, dict):
            instr = instr.get("text")
        if isinstance(instr, str):
            s.instructions_size = len(instr)
        s.origin = origin_of(s.source, s.originator)

    def _legacy_header(self, line_no: int, obj: dict[str, Any]) -> None:
        sid = str(obj.get("id") or "").lower()
        s = self._ensure_session(self.state.name_id or sid)
        s.era = "legacy"
        self._apply_meta(s, obj)
        # Legacy lines carry no timestamps: every event takes the session's start, and says so.
        st = self.state
        if s.started_at:
            st.last_ts, st.ts_source = s.started_at, "session header"
        elif self._name_ts:
            s.started_at = self._name_ts
            st.last_ts, st.ts_source = self._name_ts, "file name"

    # ------------------------------------------------------------------ legacy era
    def _legacy_line(self, line_no: int, obj: dict[str, Any]) -> None:
        if obj.get("record_type") == "state":
            return
        if "type" not in obj and "id" in obj and self.session is None:
            self._legacy_header(line_no, obj)
            return
        if self.session is None:
            if self.state.name_id is None:
                return
            self._ensure_session(self.state.name_id).era = "legacy"
        ts = obj.get("timestamp") if isinstance(obj.get("timestamp"), str) else None
        if obj.get("type") == "message" and obj.get("role") == "user":
            text = content_text(obj.get("content"))
            if _is_injected(text):
                self._maybe_cwd(text)
                self._emit(
                    K.CONTEXT,
                    "response_item/message",
                    line_no,
                    ts,
                    text=capped(text, CAP_CONTEXT),
                    size=len(text),
                    data={"role": "user"},
                )
            else:
                self._user_prompt(line_no, ts, "response_item/message", text)
            return
        self._response_item(line_no, ts, obj)

    def _maybe_cwd(self, text: str) -> None:
        s = self.session
        if s is not None and not s.cwd and "<cwd>" in text:
            m = _CWD_TAG.search(text)
            if m:
                s.cwd = m.group(1).strip()

    # ------------------------------------------------------------------ emit helpers
    def _emit(
        self,
        kind: str,
        raw_type: str,
        line_no: int,
        ts: str | None,
        *,
        text: str = "",
        size: int | None = None,
        call_id: str | None = None,
        tool: str | None = None,
        command: str | None = None,
        workdir: str | None = None,
        exit_code: int | None = None,
        duration_ms: int | None = None,
        success: bool | None = None,
        status: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Append one event as a store row (a tuple in EVENT_COLUMNS order: the hot path makes no objects)."""
        st = self.state
        session = self.session
        assert session is not None, "events are added after the session record"
        if ts is None and st.last_ts is not None:
            # No time on this record (legacy era): the last known time, marked as inferred in the data.
            ts = st.last_ts
            data = (
                {**data, "ts_from": st.ts_source or "previous record"}
                if data
                else {"ts_from": st.ts_source or "previous record"}
            )
        if exit_code is not None:
            exit_code = int64(exit_code)
        if duration_ms is not None:
            duration_ms = int64(duration_ms)
        self.rows.append(
            (
                session.id,
                st.seq,
                kind,
                raw_type,
                line_no,
                ts,
                st.turn,
                call_id,
                tool,
                command,
                workdir,
                exit_code,
                duration_ms,
                None if success is None else int(success),
                status,
                len(text) if size is None else size,
                _dump_data(data) if data else None,
                text,
            )
        )
        st.seq += 1

    def _other(self, line_no: int, ts: str | None, raw_type: str, payload: Any) -> None:
        if self.session is None:
            return
        try:
            dumped = orjson.dumps(payload).decode()
        except TypeError:
            dumped = repr(payload)
        self._emit(K.OTHER, raw_type, line_no, ts, text=capped(dumped, CAP_OTHER), size=len(dumped))

    def _user_prompt(self, line_no: int, ts: str | None, raw_type: str, text: str, data: dict | None = None) -> None:
        st = self.state
        if st.turn_state == "started":
            st.turn_state = "open"
        else:
            st.turn += 1
            st.turn_state = "open"
        self._emit(
            K.USER_MESSAGE, raw_type, line_no, ts, text=capped(text, CAP_MESSAGE), size=len(text), data=data or {}
        )

    # ------------------------------------------------------------------ response items
    def _response_item(self, line_no: int, ts: str | None, p: dict[str, Any]) -> None:
        ptype = p.get("type")
        raw_type = f"response_item/{ptype}"
        if ptype == "message":
            role = p.get("role")
            text = content_text(p.get("content"))
            if role == "assistant":
                self._emit(
                    K.ASSISTANT_MESSAGE,
                    raw_type,
                    line_no,
                    ts,
                    text=capped(text, CAP_MESSAGE),
                    size=len(text),
                    status=_str(p.get("phase")),
                )
            else:
                self._maybe_cwd(text)
                self._emit(
                    K.CONTEXT,
                    raw_type,
                    line_no,
                    ts,
                    text=capped(text, CAP_CONTEXT),
                    size=len(text),
                    data={"role": role},
                )
        elif ptype == "reasoning":
            text = "\n".join(
                s.get("text", "") for s in (p.get("summary") or []) if isinstance(s, dict) and s.get("text")
            )
            if not text and isinstance(p.get("content"), list):
                text = content_text(p["content"])
            if text:
                self._emit(K.REASONING, raw_type, line_no, ts, text=capped(text, CAP_MESSAGE), size=len(text))
        elif ptype in ("function_call", "custom_tool_call", "local_shell_call"):
            self._tool_call(line_no, ts, raw_type, p)
        elif ptype in ("function_call_output", "custom_tool_call_output"):
            self._tool_output(line_no, ts, raw_type, p)
        elif ptype == "web_search_call":
            action = _dict(p.get("action"))
            q = action.get("query") or action.get("url") or ""
            self._emit(
                K.WEB_SEARCH, raw_type, line_no, ts, text=capped(str(q), CAP_CONTEXT), status=_str(p.get("status"))
            )
        elif ptype in ("compaction", "compaction_summary"):
            self._compaction(line_no, ts, raw_type, {})
        elif ptype == "ghost_snapshot":
            g = _dict(p.get("ghost_commit"))
            self._emit(K.SNAPSHOT, raw_type, line_no, ts, text=str(g.get("id") or ""))
        else:
            self._other(line_no, ts, raw_type, {k: v for k, v in p.items() if k != "encrypted_content"})

    def _tool_call(self, line_no: int, ts: str | None, raw_type: str, p: dict[str, Any]) -> None:
        ptype = p.get("type")
        call_id = _str(p.get("call_id")) or _str(p.get("id"))
        name = _str(p.get("name")) or ("local_shell" if ptype == "local_shell_call" else "?")
        ns = _str(p.get("namespace"))
        if ns and not name.startswith(ns):
            name = f"{ns}.{name}"
        command = workdir = None
        text = ""
        files: list[str] = []
        data: dict[str, Any] = {}
        origin_call = None
        if ptype == "local_shell_call":
            action = _dict(p.get("action"))
            command = argv_to_command(action.get("command"))
            workdir = _str(action.get("working_directory"))
            tool = "local_shell"
            text = command
        elif ptype == "custom_tool_call":
            raw_input = p.get("input")
            text = raw_input if isinstance(raw_input, str) else orjson.dumps(raw_input).decode()
            tool = name
            if name == "apply_patch":
                files = patch_files(text)
        else:
            args = loads_maybe(p.get("arguments"))
            tool = name
            if isinstance(args, dict):
                cmd = args.get("command", args.get("cmd"))
                if cmd is not None and name != "write_stdin":
                    patch = shell_patch(cmd)
                    if patch is not None:
                        # Codex intercepts apply_patch run through the shell and applies it itself: an edit.
                        tool = "apply_patch"
                        text = patch
                        files = patch_files(text)
                        data["via"] = name
                    else:
                        command = argv_to_command(cmd)
                        text = command
                workdir = _str(args.get("workdir") or args.get("cwd"))
                if name == "apply_patch" and isinstance(args.get("input"), str):
                    text = args["input"]
                    files = patch_files(text)
                if args.get("with_escalated_permissions") or args.get("sandbox_permissions") == "require_escalated":
                    data["escalated"] = True
                    if args.get("justification"):
                        data["justification"] = capped(str(args["justification"]), CAP_CONTEXT)
                if int64(args.get("timeout_ms")) is not None:
                    data["timeout_ms"] = args["timeout_ms"]
                if name == "write_stdin":
                    proc = str(args.get("session_id", ""))
                    origin_call = self.state.processes.get(proc)
                    data["process_id"] = proc
                    chars = args.get("chars")
                    if isinstance(chars, str) and chars:
                        data["chars"] = capped(chars, 200)
                    if origin_call:
                        prev = self.state.calls.get(origin_call)
                        command = prev[1] if prev else None
                        data["origin_call_id"] = origin_call
                if not text and name != "write_stdin":
                    text = capped(orjson.dumps(args).decode(), CAP_OTHER)
            else:
                text = str(args or "")
        if files:
            data["files"] = files
        size = len(text)
        text = capped(text, CAP_PATCH if tool == "apply_patch" else CAP_MESSAGE)
        if call_id:
            calls = self.state.calls
            calls[call_id] = [tool, command, workdir, files, origin_call]
            _trim(calls)
        self._emit(
            K.TOOL_CALL,
            raw_type,
            line_no,
            ts,
            call_id=call_id,
            tool=tool,
            command=command,
            workdir=workdir,
            text=text,
            size=size,
            data=data,
            status=_str(p.get("status")),
        )

    def _call_info(self, call_id: str | None) -> tuple[str | None, str | None, str | None, list[str], str | None]:
        info = self.state.calls.get(call_id or "")
        if not info or len(info) != 5:
            return None, None, None, [], None
        tool, command, workdir, files, origin = info
        return tool, command, workdir, files or [], origin

    def _tool_output(self, line_no: int, ts: str | None, raw_type: str, p: dict[str, Any]) -> None:
        call_id = _str(p.get("call_id"))
        tool, command, workdir, files, origin = self._call_info(call_id)
        data: dict[str, Any] = {}
        effective_id = call_id
        out = classify_output(p.get("output"), tool)
        # A poll's output belongs to the exec call it polls, unless the poll itself failed (the session it
        # wrote to was gone or closed): that failure is the poll's own, not the command's.
        if tool == "write_stdin" and origin and not (out.status is Status.FAILED and out.exit_code is None):
            data["via_call_id"] = call_id
            effective_id = origin
            otool, ocommand, oworkdir, _, _ = self._call_info(origin)
            tool, command, workdir = otool or tool, ocommand or command, oworkdir or workdir
            out = classify_output(p.get("output"), tool)
        if out.process_id and effective_id:
            self.state.processes[out.process_id] = effective_id
            _trim(self.state.processes)
        self._result(K.TOOL_OUTPUT, raw_type, line_no, ts, out, effective_id, tool, command, workdir, data, files)

    def _result(
        self,
        kind: str,
        raw_type: str,
        line_no: int,
        ts: str | None,
        out: Outcome,
        call_id: str | None,
        tool: str | None,
        command: str | None,
        workdir: str | None,
        data: dict[str, Any],
        files: list[str] | None = None,
    ) -> None:
        """Emit one result event from a decided :class:`Outcome` (every result shape comes through here)."""
        if out.reason:
            data["outcome"] = out.reason
        if out.truncation:
            data["truncation"] = out.truncation
        if out.redacted:
            data["redacted"] = True
        if out.status is Status.REJECTED:
            body = out.body
            data["rejection"] = (out.rejection or Rejection.USER).value
            if files:
                data["files"] = files
            self._emit(
                K.DENIAL,
                raw_type,
                line_no,
                ts,
                call_id=call_id,
                tool=tool,
                command=command,
                workdir=workdir,
                exit_code=out.exit_code,
                text=capped(body, CAP_CONTEXT),
                size=len(body),
                status="declined" if raw_type.endswith("_end") else "rejected",
                success=False,
                data=data,
            )
            return
        status = out.status.value if out.status is not Status.UNKNOWN else None
        if tool == "apply_patch" or kind == K.PATCH_APPLY:
            head = out.text[out.start : out.start + 4000]
            if out.status is Status.OK and not files:
                files = [f.strip() for f in PATCH_OK_FILE.findall(head)]
            if files:
                data["files"] = files
            self._emit(
                K.PATCH_APPLY,
                raw_type,
                line_no,
                ts,
                call_id=call_id,
                tool="apply_patch",
                command=command,
                workdir=workdir,
                exit_code=out.exit_code,
                duration_ms=out.duration_ms,
                success=out.success,
                status=status,
                text=capped_output(out.text, out.start),
                size=out.size,
                data=data,
            )
            return
        self._emit(
            K.TOOL_OUTPUT,
            raw_type,
            line_no,
            ts,
            call_id=call_id,
            tool=tool,
            command=command,
            workdir=workdir,
            exit_code=out.exit_code,
            duration_ms=out.duration_ms,
            success=out.success,
            status=status,
            text=self._output_text(call_id, out.text, data, out.start),
            size=out.size,
            data=data,
        )

    def _output_text(self, call_id: str | None, text: str, data: dict[str, Any], start: int = 0) -> str:
        """Capped output text, or "" with ``data["same_text_as"]`` when this call's output was already stored.

        Era C writes each command's output twice (the function_call_output chunk and exec_command_end's
        aggregated output); storing it once halves the database. ``Store.events`` restores the text.
        """
        capped_text = capped_output(text, start)
        if not call_id or not capped_text:
            return capped_text
        outputs = self._outputs
        prev = outputs.get(call_id)
        if prev is not None and prev[0] == capped_text:
            data["same_text_as"] = prev[1]
            return ""
        outputs[call_id] = (capped_text, self.state.seq)
        _trim(outputs)
        return capped_text

    # ------------------------------------------------------------------ event messages
    def _event_msg(self, line_no: int, ts: str | None, p: dict[str, Any]) -> None:
        ptype = p.get("type")
        raw_type = f"event_msg/{ptype}"
        st = self.state
        if ptype in _DROPPED_EVENT_MSGS:
            return
        if ptype == "user_message":
            kind = p.get("kind")
            text = _str(p.get("message")) or ""
            if kind not in (None, "plain"):
                self._maybe_cwd(text)
                self._emit(
                    K.CONTEXT,
                    raw_type,
                    line_no,
                    ts,
                    text=capped(text, CAP_CONTEXT),
                    size=len(text),
                    data={"role": str(kind)},
                )
                return
            data: dict[str, Any] = {}
            images = sum(len(x) for x in (p.get("images"), p.get("local_images")) if isinstance(x, list))
            if images:
                data["images"] = images
            self._user_prompt(line_no, ts, raw_type, text, data)
        elif ptype == "task_started":
            st.turn += 1
            st.turn_state = "started"
            data = {k: p[k] for k in ("turn_id",) if isinstance(p.get(k), str)}
            if int64(p.get("model_context_window")) is not None:
                data["model_context_window"] = p["model_context_window"]
            self._emit(K.TURN_STARTED, raw_type, line_no, ts, data=data)
        elif ptype == "task_complete":
            st.turn_state = "closed"
            dur = p.get("duration_ms")
            err = p.get("error")
            if isinstance(err, dict):  # 2026 builds attach the error that ended the turn
                info = err.get("codex_error_info")
                if isinstance(info, dict):
                    info = next(iter(info), None)
                msg = _str(err.get("message")) or ""
                self._emit(
                    K.ERROR, raw_type, line_no, ts, text=capped(msg, CAP_MESSAGE), size=len(msg), status=_str(info)
                )
            self._emit(
                K.TURN_COMPLETED,
                raw_type,
                line_no,
                ts,
                status="failed" if isinstance(err, dict) else "completed",
                duration_ms=int64(dur),
                data={"turn_id": p["turn_id"]} if p.get("turn_id") else {},
            )
        elif ptype == "turn_aborted":
            st.turn_state = "closed"
            reason = _str(p.get("reason")) or "unknown"
            self._emit(K.TURN_ABORTED, raw_type, line_no, ts, status=reason, text=reason)
        elif ptype == "token_count":
            self._token_count(line_no, ts, raw_type, p)
        elif ptype == "context_compacted":
            self._compaction(line_no, ts, raw_type, {})
        elif ptype == "exec_command_end":
            self._exec_end(line_no, ts, raw_type, p)
        elif ptype == "patch_apply_end":
            self._patch_end(line_no, ts, raw_type, p)
        elif ptype == "mcp_tool_call_end":
            self._mcp_end(line_no, ts, raw_type, p)
        elif ptype in ("error", "stream_error", "warning"):
            kind = {"error": K.ERROR, "stream_error": K.STREAM_ERROR, "warning": K.WARNING}[ptype]
            info = p.get("codex_error_info")
            if isinstance(info, dict):
                info = next(iter(info), None)
            msg = _str(p.get("message")) or ""
            self._emit(kind, raw_type, line_no, ts, text=capped(msg, CAP_MESSAGE), size=len(msg), status=_str(info))
        elif ptype == "web_search_end":
            q = p.get("query") or ""
            self._emit(
                K.WEB_SEARCH,
                raw_type,
                line_no,
                ts,
                call_id=_str(p.get("call_id")),
                text=capped(str(q), CAP_CONTEXT),
                status="completed",
            )
        elif ptype in ("thread_rolled_back", "undo_completed"):
            n = p.get("num_turns")
            text = f"rolled back {n} turn(s)" if ptype == "thread_rolled_back" else (_str(p.get("message")) or "undo")
            self._emit(
                K.ROLLBACK,
                raw_type,
                line_no,
                ts,
                text=text,
                success=p.get("success") if isinstance(p.get("success"), bool) else None,
                data={"num_turns": n} if int64(n) is not None else {},
            )
        elif ptype in ("entered_review_mode", "exited_review_mode"):
            self._emit(K.REVIEW, raw_type, line_no, ts, status=ptype.split("_")[0])
        else:
            self._other(line_no, ts, raw_type, p)

    def _token_count(self, line_no: int, ts: str | None, raw_type: str, p: dict[str, Any]) -> None:
        info = p.get("info")
        data: dict[str, Any] = {}
        if isinstance(info, dict):
            last = info.get("last_token_usage") or {}
            total = info.get("total_token_usage") or {}
            if isinstance(last, dict) and int64(last.get("input_tokens")) is not None:
                data["input"] = last["input_tokens"]
            if isinstance(last, dict) and int64(last.get("total_tokens")) is not None:
                data["last"] = last["total_tokens"]
            if isinstance(total, dict):
                if int64(total.get("total_tokens")) is not None:
                    data["total"] = total["total_tokens"]
                fresh = _fresh_tokens(total)
                if fresh is not None:
                    data["fresh"] = fresh
                    last_fresh = _fresh_tokens(last) if isinstance(last, dict) else None
                    if last_fresh is not None:
                        data["last_fresh"] = last_fresh
                if int64(total.get("output_tokens")) is not None:
                    data["output"] = total["output_tokens"]
            if int64(info.get("model_context_window")) is not None:
                data["window"] = info["model_context_window"]
        rl = p.get("rate_limits")
        if isinstance(rl, dict) and isinstance(rl.get("primary"), dict):
            used = rl["primary"].get("used_percent")
            if isinstance(used, int | float) and not isinstance(used, bool) and abs(used) < 1e15:
                data["rate_used_pct"] = used
        if not data or data == self.state.last_tokens:
            return  # a rate-limit-only heartbeat, or the same counts repeated for the same request
        self.state.last_tokens = data
        self._emit(K.TOKEN_COUNT, raw_type, line_no, ts, data=data)

    def _compaction(self, line_no: int, ts: str | None, raw_type: str, p: dict[str, Any]) -> None:
        st = self.state
        if line_no - st.last_compaction_line <= 4:
            st.last_compaction_line = line_no
            return  # the other half of a compacted / context_compacted pair
        st.last_compaction_line = line_no
        msg = _str(p.get("message")) or ""
        data = {}
        if isinstance(p.get("replacement_history"), list):
            data["replacement_items"] = len(p["replacement_history"])
        self._emit(K.COMPACTION, raw_type, line_no, ts, text=capped(msg, 4000), size=len(msg), data=data)

    def _turn_context(self, line_no: int, ts: str | None, p: dict[str, Any]) -> None:
        s = self.session
        model = _str(p.get("model"))
        if s is not None and model and s.model is None:
            s.model = model
        sandbox = p.get("sandbox_policy")
        if isinstance(sandbox, dict):
            sandbox = sandbox.get("type") or sandbox.get("mode")
        data = {
            k: v
            for k, v in (
                ("model", model),
                ("cwd", _str(p.get("cwd"))),
                ("approval_policy", _str(p.get("approval_policy"))),
                ("sandbox", _str(sandbox)),
                ("effort", _str(p.get("effort"))),
            )
            if v
        }
        if s is not None and not s.cwd and data.get("cwd"):
            s.cwd = data["cwd"]
        st = self.state
        if data == st.last_context and st.last_context_turn == st.turn:
            return  # re-sent for every model request of the turn: unchanged settings are kept once per turn
        st.last_context, st.last_context_turn = data, st.turn
        self._emit(K.TURN_CONTEXT, "turn_context", line_no, ts, text=model or "", data=data)

    def _exec_end(self, line_no: int, ts: str | None, raw_type: str, p: dict[str, Any]) -> None:
        call_id = _str(p.get("call_id"))
        tool, command, workdir, files, _ = self._call_info(call_id)
        command = argv_to_command(p.get("command")) or command
        workdir = _str(p.get("cwd")) or workdir
        source = _str(p.get("source"))
        data: dict[str, Any] = {"source": source} if source else {}
        if source == "user_shell":
            tool = "user_shell"
        self._result(
            K.TOOL_OUTPUT,
            raw_type,
            line_no,
            ts,
            classify_exec_end(p),
            call_id,
            tool or "exec_command",
            command,
            workdir,
            data,
            files,
        )

    def _patch_end(self, line_no: int, ts: str | None, raw_type: str, p: dict[str, Any]) -> None:
        call_id = _str(p.get("call_id"))
        changes = _dict(p.get("changes"))
        files = list(changes)
        diffs: dict[str, Any] = {}
        budget = CAP_PATCH
        for path, ch in changes.items():
            if not isinstance(ch, dict):
                continue
            entry = {"type": _str(ch.get("type"))}
            body = ch.get("unified_diff") if isinstance(ch.get("unified_diff"), str) else ch.get("content")
            if isinstance(body, str) and len(body) <= budget:
                entry["diff" if "unified_diff" in ch else "content"] = body
                budget -= len(body)
            if ch.get("move_path"):
                entry["move_path"] = _str(ch.get("move_path"))
            diffs[path] = entry
        data: dict[str, Any] = {"changes": diffs}
        self._result(
            K.PATCH_APPLY, raw_type, line_no, ts, classify_patch_end(p), call_id, "apply_patch", None, None, data, files
        )

    def _mcp_end(self, line_no: int, ts: str | None, raw_type: str, p: dict[str, Any]) -> None:
        call_id = _str(p.get("call_id"))
        inv = _dict(p.get("invocation"))
        tool = f"mcp__{inv.get('server', '?')}__{inv.get('tool', '?')}"
        self._result(K.TOOL_OUTPUT, raw_type, line_no, ts, classify_mcp_end(p), call_id, tool, None, None, {})

    # ------------------------------------------------------------------ results
    def take_rows(self) -> list[tuple]:
        rows, self.rows = self.rows, []
        return rows

    def snapshot_session(self) -> Session | None:
        s = self.session
        if s is None:
            return None
        s.ended_at = self.state.last_ts or s.ended_at
        self.state.session = {name: getattr(s, name) for name in Session.__dataclass_fields__}
        return s


def _trim(d: dict[str, Any]) -> None:
    """Keep a call-tracking dict bounded: drop the oldest half once it doubles the limit (amortized O(1))."""
    if len(d) > 2 * MAX_TRACKED_CALLS:
        for k in list(d)[: len(d) - MAX_TRACKED_CALLS]:
            del d[k]


def _dump_data(data: dict[str, Any]) -> str:
    """Event extras as JSON; values JSON or SQLite cannot hold (ints past 64 bits, 255-deep nesting) become
    null rather than costing the record."""
    try:
        return _dumps(data).decode()
    except TypeError:  # orjson.JSONEncodeError: out-of-range int, recursion limit, unknown type
        return _dumps(_json_safe(data, 0)).decode()


def _json_safe(value: Any, depth: int) -> Any:
    if depth > 32:
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v, depth + 1) for v in value]
    if type(value) is int:
        return int64(value)
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    return value if value is None or isinstance(value, str | bool) else str(value)


def _fresh_tokens(usage: dict[str, Any]) -> int | None:
    """Tokens of a usage record not served from the prompt cache: new input plus output."""
    i, c, o = (
        int64(usage.get("input_tokens")),
        int64(usage.get("cached_input_tokens")),
        int64(usage.get("output_tokens")),
    )
    if i is None or o is None:
        return None
    return int64(max(i - (c or 0), 0) + o)


def _dict(v: Any) -> dict[str, Any]:
    """``v`` when it is a JSON object, else an empty one."""
    return v if isinstance(v, dict) else {}


def _str(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, int | float | bool):
        return str(v)
    return None


def _source(src: Any) -> tuple[str, str | None]:
    """Normalize ``session_meta.source`` (string or sub-agent object) to a label and the parent thread id."""
    if isinstance(src, str):
        return src, None
    if isinstance(src, dict):
        sub = src.get("subagent")
        if sub is not None:
            if isinstance(sub, str):
                return f"subagent:{sub}", None
            if isinstance(sub, dict):
                key = next(iter(sub), "other")
                val = sub.get(key)
                parent = val.get("parent_thread_id") if isinstance(val, dict) else None
                return f"subagent:{key}", _str(parent)
        key = next(iter(src), "unknown")
        return str(key), None
    return "unknown", None


def _is_injected(text: str) -> bool:
    return text.lstrip().startswith(_INJECTED_PREFIXES)
