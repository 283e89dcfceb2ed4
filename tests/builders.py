"""Build small rollout files in Codex's real on-disk format for tests (enveloped era B/C and legacy era A).

Record shapes follow the real files in tests/fixtures/codex_samples/ field for field.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class Rollout:
    """An enveloped rollout. ``era="C"`` adds the 2026 events (task_started/complete, exec/patch ends)."""

    def __init__(
        self,
        session_id: str | None = None,
        *,
        start: str = "2026-10-05T09:00:00",
        cwd: str = "/home/dev/src/billing-api",
        originator: str = "codex-tui",
        source: Any = "cli",
        cli_version: str = "0.125.0",
        era: str = "C",
        git: dict[str, str] | None = None,
        model: str = "gpt-5.1-codex",
        forked_from: str | None = None,
        approval: str = "on-request",
    ) -> None:
        seed = hashlib.md5(f"{start}|{cwd}|{originator}".encode()).hexdigest()
        self.id = session_id or str(uuid.UUID(seed, version=4))
        self.t = datetime.fromisoformat(start).replace(tzinfo=UTC)
        self.era = era
        self.model = model
        self.cwd = cwd
        self.approval = approval
        self.lines: list[dict[str, Any]] = []
        self._n = 0
        self.turn_id: str | None = None
        meta: dict[str, Any] = {
            "id": self.id,
            "timestamp": _ts(self.t),
            "cwd": cwd,
            "originator": originator,
            "cli_version": cli_version,
            "source": source,
            "model_provider": "openai",
            "base_instructions": {"text": "You are Codex, a coding agent."},
            "git": git
            if git is not None
            else {
                "commit_hash": "c8c252acd853de59c54b5c31374fec6028ee812e",
                "branch": "main",
                "repository_url": "git@github.com:acme/billing-api.git",
            },
        }
        if forked_from:
            meta["forked_from_id"] = forked_from
        self.add("session_meta", meta)

    @property
    def last_line(self) -> int:
        """1-based line number of the record added last."""
        return len(self.lines)

    def line_of(self, predicate: Any) -> int:
        """1-based line number of the last record whose payload satisfies ``predicate``."""
        for i in range(len(self.lines) - 1, -1, -1):
            if predicate(self.lines[i]["payload"]):
                return i + 1
        raise LookupError("no such record")

    # -- raw
    def tick(self, seconds: float = 1.0) -> Rollout:
        self.t += timedelta(seconds=seconds)
        return self

    def add(self, rtype: str, payload: dict[str, Any]) -> Rollout:
        self.lines.append({"timestamp": _ts(self.t), "type": rtype, "payload": payload})
        self.t += timedelta(milliseconds=7)
        return self

    def call_id(self) -> str:
        self._n += 1
        return f"call_{self.id[:8]}_{self._n:03d}"

    # -- turns
    def user(self, text: str) -> Rollout:
        if self.era == "C":
            self.turn_id = f"turn-{len(self.lines)}"
            self.add("event_msg", {"type": "task_started", "turn_id": self.turn_id, "model_context_window": 272000})
        self.add(
            "turn_context",
            {
                "cwd": self.cwd,
                "approval_policy": self.approval,
                "sandbox_policy": {"type": "workspace-write", "network_access": False},
                "model": self.model,
                "effort": "medium",
                "summary": "auto",
            },
        )
        self.add(
            "response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
        )
        self.add(
            "event_msg",
            {"type": "user_message", "message": text, "images": [], "local_images": [], "text_elements": []},
        )
        return self

    def assistant(self, text: str, *, phase: str = "final_answer") -> Rollout:
        self.add("event_msg", {"type": "agent_message", "message": text, "phase": phase})
        self.add(
            "response_item",
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text}],
                "phase": phase,
            },
        )
        return self

    def reasoning(self, text: str) -> Rollout:
        return self.add(
            "response_item",
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": text}],
                "content": None,
                "encrypted_content": "gAAAAABfakeblob",
            },
        )

    def complete(self, message: str = "Done.") -> Rollout:
        if self.era == "C":
            self.add(
                "event_msg",
                {"type": "task_complete", "turn_id": self.turn_id, "last_agent_message": message, "duration_ms": 4200},
            )
        return self

    def abort(self, reason: str = "interrupted") -> Rollout:
        return self.add("event_msg", {"type": "turn_aborted", "reason": reason, "turn_id": self.turn_id})

    # -- tools
    def exec(
        self, cmd: str, output: str = "", exit_code: int = 0, *, seconds: float = 0.4, escalate: bool = False
    ) -> str:
        cid = self.call_id()
        if self.era == "C":
            args: dict[str, Any] = {"cmd": cmd, "workdir": self.cwd, "yield_time_ms": 1000}
            if escalate:
                args |= {"sandbox_permissions": "require_escalated", "justification": "needs network"}
            self.add(
                "response_item",
                {"type": "function_call", "name": "exec_command", "arguments": json.dumps(args), "call_id": cid},
            )
            self.add(
                "response_item",
                {
                    "type": "function_call_output",
                    "call_id": cid,
                    "output": f"Chunk ID: a1b2c3\nWall time: {seconds:.4f} seconds\nProcess exited with code {exit_code}\n"
                    f"Original token count: 12\nOutput:\n{output}",
                },
            )
            self.add(
                "event_msg",
                {
                    "type": "exec_command_end",
                    "call_id": cid,
                    "turn_id": self.turn_id,
                    "command": ["/bin/bash", "-lc", cmd],
                    "cwd": self.cwd,
                    "parsed_cmd": [{"type": "unknown", "cmd": cmd}],
                    "source": "agent",
                    "stdout": "",
                    "stderr": "",
                    "aggregated_output": output,
                    "exit_code": exit_code,
                    "duration": {"secs": int(seconds), "nanos": 0},
                    "formatted_output": output,
                    "status": "completed" if exit_code == 0 else "failed",
                },
            )
        else:
            args = {"command": ["bash", "-lc", cmd], "workdir": self.cwd, "timeout_ms": 120000}
            if escalate:
                args |= {"with_escalated_permissions": True, "justification": "needs network"}
            self.add(
                "response_item",
                {"type": "function_call", "name": "shell", "arguments": json.dumps(args), "call_id": cid},
            )
            self.add(
                "response_item",
                {
                    "type": "function_call_output",
                    "call_id": cid,
                    "output": json.dumps(
                        {"output": output, "metadata": {"exit_code": exit_code, "duration_seconds": seconds}}
                    ),
                },
            )
        return cid

    def deny(self, cmd: str) -> str:
        cid = self.call_id()
        args = {
            "cmd": cmd,
            "workdir": self.cwd,
            "sandbox_permissions": "require_escalated",
            "justification": "needs approval",
        }
        self.add(
            "response_item",
            {"type": "function_call", "name": "exec_command", "arguments": json.dumps(args), "call_id": cid},
        )
        self.add(
            "response_item", {"type": "function_call_output", "call_id": cid, "output": "exec command rejected by user"}
        )
        if self.era == "C":
            self.add(
                "event_msg",
                {
                    "type": "exec_command_end",
                    "call_id": cid,
                    "turn_id": self.turn_id,
                    "command": ["/bin/bash", "-lc", cmd],
                    "cwd": self.cwd,
                    "parsed_cmd": [],
                    "source": "agent",
                    "stdout": "",
                    "stderr": "exec command rejected by user",
                    "aggregated_output": "",
                    "exit_code": -1,
                    "duration": {"secs": 0, "nanos": 0},
                    "formatted_output": "",
                    "status": "declined",
                },
            )
        return cid

    def patch(self, path: str, *, ok: bool = True, old: str = "old line", new: str = "new line") -> str:
        cid = self.call_id()
        body = f"*** Begin Patch\n*** Update File: {path}\n@@\n-{old}\n+{new}\n*** End Patch\n"
        self.add(
            "response_item",
            {"type": "custom_tool_call", "status": "completed", "call_id": cid, "name": "apply_patch", "input": body},
        )
        if ok:
            out = {
                "output": f"Success. Updated the following files:\nM {path}\n",
                "metadata": {"exit_code": 0, "duration_seconds": 0.1},
            }
        else:
            out = {
                "output": f"apply_patch verification failed: Failed to find expected lines in {path}:\n{old}",
                "metadata": {"exit_code": 1, "duration_seconds": 0.1},
            }
        if self.era == "C":
            self.add(
                "event_msg",
                {
                    "type": "patch_apply_end",
                    "call_id": cid,
                    "turn_id": self.turn_id,
                    "stdout": out["output"] if ok else "",
                    "stderr": "" if ok else out["output"],
                    "success": ok,
                    "changes": {
                        f"{self.cwd}/{path}": {
                            "type": "update",
                            "unified_diff": f"@@ -1 +1 @@\n-{old}\n+{new}\n",
                            "move_path": None,
                        }
                    },
                    "status": "completed" if ok else "failed",
                },
            )
        self.add("response_item", {"type": "custom_tool_call_output", "call_id": cid, "output": json.dumps(out)})
        return cid

    def tokens(self, input_tokens: int, total: int, window: int = 272000) -> Rollout:
        usage = {
            "input_tokens": input_tokens,
            "cached_input_tokens": 0,
            "output_tokens": 100,
            "reasoning_output_tokens": 0,
            "total_tokens": input_tokens + 100,
        }
        return self.add(
            "event_msg",
            {
                "type": "token_count",
                "info": {
                    "total_token_usage": usage | {"total_tokens": total},
                    "last_token_usage": usage,
                    "model_context_window": window,
                },
                "rate_limits": None,
            },
        )

    def compact(self, summary: str = "Summary of the work so far.") -> Rollout:
        self.add("compacted", {"message": summary, "replacement_history": []})
        return self.add("event_msg", {"type": "context_compacted"})

    def error(self, message: str, info: Any = "other") -> Rollout:
        return self.add("event_msg", {"type": "error", "message": message, "codex_error_info": info})

    def stream_error(self, message: str = "Reconnecting... 2/5") -> Rollout:
        return self.add("event_msg", {"type": "stream_error", "message": message})

    # -- output
    def text(self) -> str:
        return "".join(json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n" for line in self.lines)

    def file_name(self) -> str:
        return f"rollout-{self.lines[0]['timestamp'][:19].replace(':', '-')}-{self.id}.jsonl"

    def write(self, folder: Path, *, dated: bool = True) -> Path:
        d = folder
        if dated:
            y, m, day = self.lines[0]["timestamp"][:10].split("-")
            d = folder / "sessions" / y / m / day
        d.mkdir(parents=True, exist_ok=True)
        path = d / self.file_name()
        path.write_text(self.text(), encoding="utf-8")
        return path


def legacy_rollout(session_id: str = "5973b6c0-94b8-487b-a530-2aeb6098ae0e") -> str:
    """An unenveloped (era A, mid-2025) rollout with a header, state markers and bare items."""
    env = (
        "<environment_context>\n  <cwd>/home/dev/src/legacy-app</cwd>\n  <approval_policy>on-request"
        "</approval_policy>\n</environment_context>"
    )
    lines: list[dict[str, Any]] = [
        {
            "id": session_id,
            "timestamp": "2025-08-20T13:20:47.060Z",
            "instructions": None,
            "git": {
                "commit_hash": "0f3c2a1b9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a",
                "branch": "main",
                "repository_url": "https://github.com/acme/legacy-app.git",
            },
        },
        {"record_type": "state"},
        {"type": "message", "id": None, "role": "user", "content": [{"type": "input_text", "text": env}]},
        {
            "type": "message",
            "id": None,
            "role": "user",
            "content": [{"type": "input_text", "text": "run the tests and fix what fails"}],
        },
        {"record_type": "state"},
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "Running tests"}],
            "encrypted_content": "gAAAAABxyz",
        },
        {
            "type": "function_call",
            "id": "fc_1",
            "name": "shell",
            "arguments": json.dumps({"command": ["bash", "-lc", "pytest -q"]}),
            "call_id": "call_1",
        },
        {
            "type": "function_call_output",
            "call_id": "call_1",
            "output": json.dumps(
                {
                    "output": "E   ModuleNotFoundError: No module named 'httpx'\n1 error",
                    "metadata": {"exit_code": 1, "duration_seconds": 0.8},
                }
            ),
        },
        {
            "type": "message",
            "id": None,
            "role": "assistant",
            "content": [{"type": "output_text", "text": "httpx is missing; installing it."}],
        },
    ]
    return "".join(json.dumps(x) + "\n" for x in lines)
