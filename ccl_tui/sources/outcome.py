"""The one place that decides what happened to a tool call, for every shape Codex writes.

A call's result reaches the log in many forms, by era and tool (see docs in ``shared/notes`` §2, §7):

=====================================  ===================================================================
shape                                   decided by
=====================================  ===================================================================
JSON ``{"output","metadata":{...}}``    ``metadata.exit_code`` (shell tool, 2025; apply_patch everywhere)
``Exit code: N`` / ``Wall time``        the header (shell_command, late 2025)
``Chunk ID`` + ``Process exited…``      the unified-exec header (2026); ``Process running…`` = still running
``failed in sandbox X with …``          the sandbox failure text, with ``exit code: N`` when present (2025)
``command timed out``                   a timeout (also exit code 124)
``… rejected by user`` and friends      a rejection: user, approval guardian, URL policy, already denied
``aborted`` / ``aborted by user``       the call was interrupted
MCP ``CallToolResult``                  ``isError``; a content list whose text is an error; ``tool call error``
apply_patch texts                       ``Success. Updated…`` / ``apply_patch verification failed`` /
                                        ``error: Failed to find expected lines`` / ``Invalid patch``
``write_stdin failed: …``               the session the agent wrote to is gone
``exec_command_end``                    ``exit_code`` / ``status`` (declined = rejection)
``patch_apply_end``                     ``success`` / ``status``
``mcp_tool_call_end``                   ``result.Ok.isError`` / ``result.Err``
[REDACTED…] placeholders                unknown: the text was scrubbed, nothing can be verified
=====================================  ===================================================================

Every decision names its ``reason`` (the shape that decided it), so a transcript can show why a call was
marked failed and a test can pin each shape. Truncation markers Codex wrote into the output are read here,
from the full text, before anything is capped for storage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

from ccl_tui.sources.outputs import content_text, duration_to_ms, int64, int_text, loads_maybe


class Status(StrEnum):
    OK = "ok"
    FAILED = "failed"
    TIMEOUT = "timeout"
    REJECTED = "rejected"  # refused before it ran: by the user, the approval guardian, a URL policy...
    ABORTED = "aborted"  # interrupted while running
    RUNNING = "running"  # unified exec still running; the result comes in a later poll
    UNKNOWN = "unknown"


class Rejection(StrEnum):
    USER = "user"  # the user answered an approval prompt with "no"
    GUARDIAN = "guardian"  # the automatic approval reviewer refused it as too risky
    POLICY = "policy"  # a URL / network / permission policy the user set blocked it
    REPEATED = "repeated"  # the same request was already denied in this turn


@dataclass(slots=True)
class Outcome:
    text: str  # the whole output; the command's own output starts at ``start`` (after headers)
    status: Status = Status.UNKNOWN
    reason: str = ""  # which shape decided the status
    exit_code: int | None = None
    duration_ms: int | None = None
    rejection: Rejection | None = None
    process_id: str | None = None  # unified-exec session still running
    start: int = 0
    truncation: dict[str, int] | None = None  # markers Codex wrote: omitted/total lines, tokens cut
    redacted: bool = False

    @property
    def body(self) -> str:
        return self.text[self.start :] if self.start else self.text

    @property
    def size(self) -> int:
        return len(self.text) - self.start

    @property
    def success(self) -> bool | None:
        if self.status is Status.OK:
            return True
        if self.status in (Status.UNKNOWN, Status.RUNNING):
            return None
        return False


# ---------------------------------------------------------------------------------------------- texts
# Exact texts from the openai/codex source (codex-rs core: tools/events.rs, tools/orchestrator.rs,
# guardian/review.rs, network_approval.rs, mcp_tool_call.rs, unified_exec/errors.rs, apply-patch, the
# pre-tools codex.rs) and from real rollouts; each has a fixture in tests/test_outcome.py.

#: The user answered "no" (shell / unified exec / apply_patch / MCP approval).
_USER = re.compile(
    r"(?:exec command rejected by user|unified exec command rejected by user|patch rejected by user"
    r"|command rejected by user|user rejected MCP tool call|user cancelled MCP tool call|rejected by user)\b",
    re.I,
)
#: The automatic approval reviewer ("guardian") refused it, or could not finish in time.
_GUARDIAN = re.compile(
    r"This action was rejected due to unacceptable risk|Guardian rejected this action"
    r"|Automatic approval review could not complete, so this action was blocked"
    r"|The automatic permission approval review did not finish before its deadline"
    r"|Tool call was cancelled because of safety risks|Auto-reviewer denied the action",
    re.I,
)
#: A policy the user (or their admin) set blocked it: approval settings, exec policy, network/URL policy,
#: hooks, app configuration; also escalation asked for under an approval policy that forbids it.
_POLICY = re.compile(
    r"(?:exec command|patch) rejected: |`[^`\n]{1,500}` rejected: |approval policy is \w+; reject command"
    r"|Network access (?:to \"[^\"\n]*\" )?was blocked|Codex blocked this request"
    r"|The user has requested that \S+ should not be used|cannot determine if \S+ is allowed"
    r"|(?:Command|Tool call) blocked by PreToolUse hook|tool call blocked: |MCP tool call blocked by app configuration",
    re.I,
)
#: unified exec wraps the refusal in Debug formatting:
#: ``exec_command failed for `cmd`: CreateProcess { message: "Rejected(\"rejected by user\")" }``.
_WRAPPED = re.compile(r"^(?:exec_command failed|unified exec failed|write_stdin failed)[^\n]*?Rejected\(\\?\"")
_ALREADY_DENIED = re.compile(r"\balready (?:been )?denied\b|\bpreviously (?:been )?denied\b", re.I)
_ABORTED = re.compile(r"^(?:Wall time: [\d.]+ seconds\n)?aborted(?: by user)?(?: after [\d.]+s)?\s*$", re.I)

_UNIFIED = re.compile(
    r"(?:Command: [^\n]*\n)?Chunk ID: [^\n]*\nWall time: (?P<wall>[\d.]+) seconds\n"
    r"(?:Process exited with code (?P<code>-?\d+)|Process running with session ID (?P<proc>\d+))\n"
    r"(?:Original token count: (?P<tokens>\d+)\n)?Output:\n"
)
_EXIT_CODE = re.compile(r"^Exit code: (-?\d+)", re.M)
_WALL_TIME = re.compile(r"^Wall time: ([\d.]+) seconds", re.M)
_PROC_EXIT = re.compile(r"^Process exited with code (-?\d+)", re.M)
_PROC_RUNNING = re.compile(r"^Process running with session ID (\d+)", re.M)
_OUTPUT_HEADER = re.compile(r"^Output:\n", re.M)
#: Pre-tools era (2025): ``failed in sandbox LinuxSeccomp with execution error: sandbox denied exec error,
#: exit code: 2, stdout: …, stderr: …``, ``failed in sandbox: sandbox error: command was killed by a signal``,
#: ``failed in sandbox: <stderr>``; ``execution error: Sandbox(Signal(9))``; ``Command denied by sandbox``.
_SANDBOX = re.compile(
    r"^(?:failed in sandbox(?: \w+ with execution error)?: |execution error: |Command denied by sandbox: |sandbox error: )",
    re.I,
)
_SANDBOX_CODE = re.compile(r"sandbox denied exec error, exit code: (-?\d+)", re.I)
_TIMED_OUT = re.compile(
    r"command timed out|timed out after \d+|timed out awaiting|\btimeout of \d+|deadline exceeded", re.I
)
_PATCH_OK = re.compile(r"^\s*Success\. Updated the following files:", re.I)
_PATCH_FAIL = re.compile(
    r"^\s*(?:apply_patch verification failed|error: |invalid patch|invalid hunk|Failed to find (?:expected lines|context)"
    r"|Failed to (?:read|write|delete|remove|create parent)|No files were modified|patch detected without explicit call"
    r"|apply_patch handler received)",
    re.I,
)
#: A tool that could not do its job: MCP call errors, unified-exec errors, argument errors, unknown tools.
_TOOL_ERROR = re.compile(
    r"^\s*(?:err: |tool call error|Error: |error: |failed to parse (?:function|exec_command|write_stdin) arguments"
    r"|unsupported (?:custom tool )?call|exec_command failed|write_stdin failed|unified exec failed"
    r"|Failed to create unified exec|Unified exec process failed|Unknown (?:process|session) id"
    r"|stdin is closed|unknown MCP server|tool '[^']*' is disabled|timed out awaiting|MCP error|McpError)",
    re.I,
)
#: MCP servers word their own errors ("Search error: Google CSE HTTP 400", "Failed to open page"): an error
#: word right at the start of a tool's text result.
_MCP_ERROR = re.compile(
    r"^\W{0,3}(?:[\w.\- ]{0,40}?\b)?(?:error|errors|failed|failure|exception)\b\s*[:!\-(]|^failed to \w+"
    r"|^(?:HTTP|status)\s*[45]\d\d\b",
    re.I,
)
_REDACTED = re.compile(r"^\s*\[REDACTED[_A-Z]*(?:[\] ]|$)")
# Truncation markers Codex writes into outputs it shortened for the model (utils/output-truncation,
# utils/string/truncate.rs, the older core/src/truncate.rs).
_OMITTED = re.compile(r"\[\.\.\. omitted (\d+) of (\d+) lines \.\.\.\]")
_TOTAL_LINES = re.compile(r"^Total output lines: (\d+)", re.M)
_TOKENS_CUT = re.compile(r"…(\d+) tokens truncated…")
_CHARS_CUT = re.compile(r"…(\d+) chars truncated…|\[\.\.\. output truncated to fit (\d+) bytes \.\.\.\]")
_ITEMS_CUT = re.compile(r"\[omitted (\d+) text items \.\.\.\]")
_LINES_CUT = re.compile(r"\[Output truncated after (\d+) lines")  # 2025 builds

_PATCH_TOOLS = frozenset({"apply_patch"})


def is_redacted(text: str) -> bool:
    """A placeholder a log scrubber left instead of the text (``[REDACTED_OUTPUT len=… sha=…]``)."""
    return bool(_REDACTED.match(text)) if text else False


def rejection_of(text: str, *, anywhere: bool = False) -> Rejection | None:
    """Whether an output says the call was refused before it ran, and by whom.

    Shell outputs are matched at their start only (a command may print such words); tools whose output is
    a message (MCP, browser, web) are matched anywhere in their first lines (``anywhere=True``)."""
    head = text[:800].strip()
    if not head:
        return None
    w = _WRAPPED.match(head)
    if w is not None:
        head, anywhere = head[w.end() :].replace('\\"', '"').replace("\\n", "\n"), False
    find = (lambda rx: rx.search(head)) if anywhere else (lambda rx: rx.match(head))
    if find(_GUARDIAN):
        return Rejection.GUARDIAN
    if find(_USER):
        return Rejection.USER
    if find(_POLICY):
        return Rejection.POLICY
    first = head.split("\n", 1)[0]
    if (
        len(first) < 300
        and _ALREADY_DENIED.search(first)
        and re.search(r"\b(request|call|command|action)\b", first, re.I)
    ):
        return Rejection.REPEATED
    return None


def truncation_markers(text: str) -> dict[str, int] | None:
    """The truncation Codex reported inside an output, read from the full text before any capping.

    ``Total output lines: N`` is written only when the output was cut to fit the model's budget."""
    found: dict[str, int | None] = {}
    # Substring gates first: outputs run to megabytes and almost none carry a marker.
    if "omitted" in text:
        m = _OMITTED.search(text)
        if m:
            found["omitted_lines"], found["total_lines"] = int_text(m[1]), int_text(m[2])
        it = _ITEMS_CUT.search(text)
        if it:
            found["items_omitted"] = int_text(it[1])
    if "Total output lines" in text[:600] and "total_lines" not in found:
        t = _TOTAL_LINES.search(text, 0, 600)
        if t:
            found["total_lines"] = int_text(t[1])
    if "truncated" in text:
        c = _TOKENS_CUT.search(text)
        if c:
            found["tokens_truncated"] = int_text(c[1])
        ch = _CHARS_CUT.search(text)
        if ch:
            found["chars_truncated"] = int_text(ch[1] or ch[2])
        kept = _LINES_CUT.search(text)
        if kept:
            found["kept_lines"] = int_text(kept[1])
    return {k: v for k, v in found.items() if v is not None} or None


# ---------------------------------------------------------------------------------------------- outputs
def classify_output(raw: Any, tool: str | None = None) -> Outcome:
    """Decide a ``function_call_output`` / ``custom_tool_call_output`` payload ``output`` for ``tool``."""
    patch = tool in _PATCH_TOOLS
    mcp = is_mcp(tool)
    if isinstance(raw, list):
        return _content_list(raw, mcp)
    if isinstance(raw, dict):
        return _object(raw, tool) or Outcome(orjson.dumps(raw).decode()[:4000])
    if not isinstance(raw, str):
        return Outcome("" if raw is None else str(raw))
    s = raw
    if is_redacted(s):
        return Outcome(s, reason="redacted", redacted=True)
    if s.startswith(("Chunk ID: ", "Command: ")):
        u = _UNIFIED.match(s)
        if u is not None:
            code = int_text(u["code"]) if u["code"] is not None else None
            out = Outcome(
                s, start=u.end(), exit_code=code, duration_ms=duration_to_ms(u["wall"] + "s"), process_id=u["proc"]
            )
            if u["proc"]:
                out.status, out.reason = Status.RUNNING, "unified exec: still running"
            else:
                _by_exit(out, "unified exec: process exited")
            out.truncation = truncation_markers(s)
            return out
    head = s[:600].lstrip()
    rej = rejection_of(head, anywhere=not (patch or is_shell(tool)))
    if rej is not None:
        return Outcome(s.strip(), Status.REJECTED, f"rejected: {rej.value}", rejection=rej)
    if len(s) < 300 and _ABORTED.match(head):
        return Outcome(s.strip(), Status.ABORTED, "aborted")
    if head[:1] in ("{", "["):
        obj = loads_maybe(s)
        if isinstance(obj, dict):
            decoded = _object(obj, tool)
            if decoded is not None:
                return decoded
        elif isinstance(obj, list) and all(isinstance(x, dict) for x in obj):
            return _content_list(obj, mcp)
    m = _PROC_EXIT.search(head) or _EXIT_CODE.search(head)
    running = _PROC_RUNNING.search(head)
    if m or running or head.startswith(("Chunk ID:", "Wall time:")):
        wall = _WALL_TIME.search(head)
        body = _OUTPUT_HEADER.search(s, 0, 800)
        out = Outcome(
            s,
            start=body.end() if body else 0,
            exit_code=int_text(m[1]) if m else None,
            duration_ms=duration_to_ms(wall[1] + "s") if wall else None,
            process_id=running[1] if running else None,
        )
        if out.exit_code is not None:
            _by_exit(out, "exit code header")
        elif running:
            out.status, out.reason = Status.RUNNING, "still running"
        out.truncation = truncation_markers(s)
        if patch and out.status is Status.UNKNOWN:
            _patch_text(out, out.body)
        return out
    if _SANDBOX.match(head):
        code_m = _SANDBOX_CODE.search(head)
        out = Outcome(s, Status.FAILED, "sandbox failure text", exit_code=int_text(code_m[1]) if code_m else None)
        if _TIMED_OUT.search(head[:200]):
            out.status, out.reason = Status.TIMEOUT, "sandbox: timed out"
        out.truncation = truncation_markers(s)
        return out
    out = Outcome(s)
    if patch:
        _patch_text(out, s)
    elif mcp:
        _mcp_text(out, s)
    elif _TIMED_OUT.match(head):
        out.status, out.reason = Status.TIMEOUT, "timed out text"
    elif _TOOL_ERROR.match(head):
        out.status, out.reason = Status.FAILED, "tool error text"
    out.truncation = truncation_markers(s)
    return out


def _by_exit(out: Outcome, reason: str) -> None:
    code = out.exit_code
    if code is None:
        return
    if code == 0:
        out.status = Status.OK
    elif code == 124 or _TIMED_OUT.search(out.body[-3000:]):
        out.status = Status.TIMEOUT
    else:
        out.status = Status.FAILED
    out.reason = f"{reason} {code}"


def _patch_text(out: Outcome, text: str) -> None:
    if _PATCH_OK.match(text):
        out.status, out.reason = Status.OK, "apply_patch: success text"
    elif _PATCH_FAIL.match(text) or _TOOL_ERROR.match(text):
        out.status, out.reason = Status.FAILED, "apply_patch: failure text"


def _mcp_text(out: Outcome, text: str) -> None:
    if _TOOL_ERROR.match(text) or _MCP_ERROR.match(text):
        out.status, out.reason = Status.FAILED, "mcp: error text"
    elif text.strip():
        out.status, out.reason = Status.OK, "mcp: result text"


def _content_list(items: list[Any], mcp: bool) -> Outcome:
    """An MCP result serialized as its content list (era A: ``[{"text": "…"}]``)."""
    text = content_text(items)
    out = Outcome(text)
    if is_redacted(text):
        out.redacted, out.reason = True, "redacted"
        return out
    rej = rejection_of(text, anywhere=True)
    if rej is not None:
        out.status, out.rejection, out.reason = Status.REJECTED, rej, f"rejected: {rej.value}"
    elif _TOOL_ERROR.match(text) or (mcp and _MCP_ERROR.match(text)):
        out.status, out.reason = Status.FAILED, "content list: error text"
    else:
        out.status, out.reason = Status.OK, "content list: result"
    out.truncation = truncation_markers(text)
    return out


def _object(obj: dict[str, Any], tool: str | None) -> Outcome | None:
    meta = obj.get("metadata")
    if "output" in obj and isinstance(meta, dict):
        code = meta.get("exit_code")
        code = int64(code)
        dur = meta.get("duration_seconds")
        text = obj.get("output")
        text = text if isinstance(text, str) else content_text(text)
        out = Outcome(text, exit_code=code, duration_ms=duration_to_ms(dur) if isinstance(dur, int | float) else None)
        rej = rejection_of(text) if code not in (0,) else None
        if rej is not None:
            out.status, out.reason, out.rejection = Status.REJECTED, f"rejected: {rej.value}", rej
        elif code is not None:
            _by_exit(out, "metadata.exit_code")
            if tool in _PATCH_TOOLS and out.status is Status.FAILED:
                out.reason = f"apply_patch: metadata.exit_code {code}"
        elif tool in _PATCH_TOOLS:
            _patch_text(out, text)
        out.truncation = truncation_markers(text)
        return out
    if "content" in obj and ("isError" in obj or "is_error" in obj or "structuredContent" in obj):
        is_err = obj.get("isError", obj.get("is_error"))
        text = content_text(obj.get("content"))
        out = Outcome(text, Status.FAILED if is_err else Status.OK, f"mcp: isError={bool(is_err)}".lower())
        rej = rejection_of(text, anywhere=True) if is_err else None
        if rej is not None:
            out.status, out.rejection, out.reason = Status.REJECTED, rej, f"rejected: {rej.value}"
        out.truncation = truncation_markers(text)
        return out
    if is_mcp(tool):  # structuredContent serialized on its own (2025 builds): a result
        text = orjson.dumps(obj).decode()
        return Outcome(text, Status.OK, "mcp: structured result", truncation=truncation_markers(text))
    if "content" in obj and ("success" in obj or len(obj) == 1):
        ok = obj.get("success")
        text = content_text(obj.get("content"))
        out = Outcome(text)
        if isinstance(ok, bool):
            out.status, out.reason = (Status.OK if ok else Status.FAILED), f"success={ok}".lower()
        else:
            rej = rejection_of(text)
            if rej is not None:
                out.status, out.reason, out.rejection = Status.REJECTED, f"rejected: {rej.value}", rej
        return out
    return None


_SHELL_TOOLS = frozenset(
    {
        "shell",
        "shell_command",
        "local_shell",
        "exec_command",
        "write_stdin",
        "container.exec",
        "unified_exec",
        "user_shell",
    }
)


def is_shell(tool: str | None) -> bool:
    return tool is None or tool in _SHELL_TOOLS


def is_mcp(tool: str | None) -> bool:
    """MCP tools are named ``mcp__server__tool`` (older builds ``server__tool``)."""
    if not tool:
        return False
    return "__" in tool and not tool.startswith("__")


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# ---------------------------------------------------------------------------------------------- event_msg
def classify_exec_end(p: dict[str, Any]) -> Outcome:
    """``exec_command_end`` (era C): exit code, status (``declined`` = rejected) and duration."""
    code = int64(p.get("exit_code"))
    status = _str(p.get("status"))
    out_text = p.get("aggregated_output")
    stderr = _str(p.get("stderr")) or ""
    if not isinstance(out_text, str) or not out_text:
        out_text = "\n".join(x for x in (p.get("stdout"), stderr) if isinstance(x, str) and x)
    out = Outcome(out_text, exit_code=code, duration_ms=duration_to_ms(p.get("duration")))
    # The output is the command's own: only a declined status (or, in builds without one, exit -1 with the
    # refusal as stderr) says the command never ran.
    rej = rejection_of(stderr) if status == "declined" or (status is None and code in (None, -1)) else None
    if status == "declined" or rej is not None:
        out.status, out.rejection = Status.REJECTED, rej or Rejection.USER
        out.reason = f"exec_command_end: declined ({out.rejection.value})"
        out.text = stderr or out_text
        return out
    if code is not None:
        _by_exit(out, "exec_command_end: exit_code")
    elif status == "failed":
        out.status, out.reason = Status.FAILED, "exec_command_end: status failed"
    out.truncation = truncation_markers(out_text)
    return out


def classify_patch_end(p: dict[str, Any]) -> Outcome:
    success = p.get("success") if isinstance(p.get("success"), bool) else None
    status = _str(p.get("status"))
    stdout = _str(p.get("stdout")) or ""
    stderr = _str(p.get("stderr")) or ""
    text = (stdout + ("\n" if stdout and stderr else "") + stderr).strip()
    out = Outcome(text)
    rej = rejection_of(stderr) if status == "declined" or (status is None and success is not True) else None
    if status == "declined" or rej is not None:
        out.status, out.rejection, out.reason = Status.REJECTED, rej or Rejection.USER, "patch_apply_end: declined"
    elif success is not None:
        out.status, out.reason = (
            (Status.OK if success else Status.FAILED),
            f"patch_apply_end: success={success}".lower(),
        )
    elif status == "failed":
        out.status, out.reason = Status.FAILED, "patch_apply_end: status failed"
    return out


def classify_mcp_end(p: dict[str, Any]) -> Outcome:
    result = p.get("result")
    out = Outcome("", duration_ms=duration_to_ms(p.get("duration")))
    if isinstance(result, dict) and "Err" in result:
        err = result["Err"]
        out.text = err if isinstance(err, str) else orjson.dumps(err).decode()
        rej = rejection_of(out.text, anywhere=True)
        if rej is not None:
            out.status, out.rejection, out.reason = Status.REJECTED, rej, f"mcp_tool_call_end: rejected ({rej.value})"
        else:
            out.status, out.reason = Status.FAILED, "mcp_tool_call_end: Err"
    elif isinstance(result, dict) and isinstance(result.get("Ok"), dict):
        ok = result["Ok"]
        out.text = content_text(ok.get("content"))
        is_err = bool(ok.get("isError") or ok.get("is_error"))
        out.status, out.reason = (
            (Status.FAILED if is_err else Status.OK),
            f"mcp_tool_call_end: isError={is_err}".lower(),
        )
        rej = rejection_of(out.text, anywhere=True) if is_err else None
        if rej is not None:
            out.status, out.rejection, out.reason = Status.REJECTED, rej, f"mcp_tool_call_end: rejected ({rej.value})"
    out.truncation = truncation_markers(out.text)
    return out
