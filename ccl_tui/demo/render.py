"""Render a story as enveloped rollout records (era B: cli 0.5x-0.8x, era C: cli 0.10x-0.12x).

Field names, key order and the order of records follow real Codex files of each version range.
"""

from __future__ import annotations

import random
import shlex
from dataclasses import dataclass
from typing import Any

import orjson

from ccl_tui.demo import clock, injected
from ccl_tui.demo.causes import DENIED
from ccl_tui.demo.ids import Ids
from ccl_tui.demo.plan import SessionPlan
from ccl_tui.demo.steps import ApplyPatch, Exec, Hiccup, Patch, Say, Story, Think, Turn, UpdatePlan

PATCH_DENIED = "patch rejected by user"
Record = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Profile:
    """What a given CLI version writes."""

    era: str
    minor: int

    @property
    def c(self) -> bool:
        return self.era == "C"

    @property
    def shell_tool(self) -> str:
        return "exec_command" if self.c else ("shell" if self.minor < 60 else "shell_command")

    @property
    def sandbox_key(self) -> str:
        return "mode" if not self.c and self.minor < 60 else "type"

    @property
    def modern(self) -> bool:  # 0.118+: task timing, message phases on events, new injection order
        return self.c and self.minor >= 118

    @property
    def end_events(self) -> bool:  # exec_command_end / patch_apply_end are persisted
        return self.c and self.minor >= 115

    @property
    def reasoning_events(self) -> bool:
        return not self.modern

    @property
    def rate_style(self) -> str | None:
        if not self.c:
            return "seconds" if self.minor < 58 else "at"
        return "full" if self.minor < 121 else None


def profile(plan: SessionPlan) -> Profile:
    return Profile(plan.era, int((plan.cli_version or "0.0.0").split(".")[1]))


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def parsed_cmd(cmd: str) -> list[Record]:
    """The ``parsed_cmd`` summary Codex attaches to exec events."""
    out: list[Record] = []
    for part in cmd.split(" && "):
        words = part.split()
        if words[:2] in (["sed", "-n"], ["nl", "-ba"]) or words[:1] == ["cat"]:
            path = words[2] if words[0] == "nl" else words[-1]
            out.append({"type": "read", "cmd": part, "name": path.rsplit("/", 1)[-1], "path": path})
        elif words[:2] == ["rg", "-n"]:
            tokens = shlex.split(part)
            query, where = tokens[2], tokens[3] if len(tokens) > 3 else "."
            out.append(
                {
                    "type": "search",
                    "cmd": shlex.join(tokens),
                    "query": query,
                    "path": where.rsplit("/", 1)[-1],
                }
            )
        elif words[:2] == ["rg", "--files"]:
            out.append({"type": "list_files", "cmd": part})
        else:
            out.append({"type": "unknown", "cmd": part})
    return out


class Renderer:
    def __init__(self, plan: SessionPlan, story: Story, rng: random.Random, ids: Ids) -> None:
        self.plan, self.story, self.rng, self.ids = plan, story, rng, ids
        self.prof = profile(plan)
        self.records: list[Record] = []
        self.now = plan.start_ms
        self.turn_id = ""
        self.turn_start = 0
        self.ctx = rng.randint(16_000, 23_000) if self.prof.c else rng.randint(9_000, 14_000)
        self.totals = dict.fromkeys(
            (
                "input_tokens",
                "cached_input_tokens",
                "output_tokens",
                "reasoning_output_tokens",
                "total_tokens",
            ),
            0,
        )
        self.requests = 0
        self.compact_due = False
        self.fresh_request = True
        self.rates = [
            rng.uniform(1, 60),
            rng.uniform(1, 40),
            rng.randint(600, 17_000),
            rng.randint(80_000, 600_000),
        ]
        self.approval = "never" if plan.kind == "exec" else "on-request"
        self.agents = injected.agents_md(plan.repo, plan.post_fix)

    # ------------------------------------------------------------------ plumbing

    def emit(self, kind: str, payload: Record) -> None:
        self.records.append({"timestamp": clock.iso(self.now), "type": kind, "payload": payload})

    def event(self, payload: Record) -> None:
        self.emit("event_msg", payload)

    def item(self, payload: Record) -> None:
        self.emit("response_item", payload)

    def tick(self, lo: float, hi: float) -> None:
        self.now += int(self.rng.uniform(lo, hi) * 1000)

    def nudge(self) -> None:
        self.now += self.rng.randint(0, 3)

    # ------------------------------------------------------------------ session and turns

    def render(self) -> list[Record]:
        for n, turn in enumerate(self.story.turns):
            self.tick(turn.pause, turn.pause)
            self.begin_turn(turn, first=n == 0 and self.plan.kind != "fork")
            for step in turn.steps:
                self.step(step)
            self.end_turn(turn)
        return self.records

    def meta(self, forked_from: str | None = None) -> Record:
        p = self.plan
        meta: Record = {"id": p.session_id}
        if forked_from:
            meta["forked_from_id"] = forked_from
        meta |= {
            "timestamp": clock.iso(p.start_ms),
            "cwd": p.cwd,
            "originator": p.originator,
            "cli_version": p.cli_version,
        }
        if not self.prof.c:
            meta["instructions"] = self.agents
        meta["source"] = self.source()
        if p.kind == "subagent":
            meta["thread_source"] = "subagent"
        meta["model_provider"] = "openai"
        if self.prof.c:
            meta["base_instructions"] = {"text": injected.BASE_INSTRUCTIONS}
        meta["git"] = {"commit_hash": p.commit, "branch": p.branch, "repository_url": p.repo.url}
        return meta

    def source(self) -> object:
        p = self.plan
        if p.kind == "subagent" and p.parent is not None:
            spawn = {
                "parent_thread_id": p.parent.session_id,
                "depth": 1,
                "agent_nickname": "Scout",
                "agent_role": "explorer",
            }
            return {"subagent": {"thread_spawn": spawn}}
        return p.source

    def begin_turn(self, turn: Turn, first: bool) -> None:
        self.turn_start = self.now
        self.turn_id = self.ids.uuid7(self.now)
        self.fresh_request = True
        if first:
            self.emit("session_meta", self.meta())
            self.nudge()
        if not self.prof.c:
            self.begin_turn_b(turn, first)
        elif self.prof.modern:
            self.begin_turn_modern(turn, first)
        else:
            self.begin_turn_c(turn, first)

    def user_text(self, text: str) -> Record:
        return {"type": "input_text", "text": text}

    def user_items(self, *texts: str) -> None:
        self.item({"type": "message", "role": "user", "content": [self.user_text(t) for t in texts]})
        self.nudge()

    def prompt(self, turn: Turn) -> None:
        self.user_items(turn.prompt)
        extra: Record = {"local_images": [], "text_elements": []} if self.prof.c else {}
        self.event({"type": "user_message", "message": turn.prompt, "images": [], **extra})
        self.nudge()

    def begin_turn_b(self, turn: Turn, first: bool) -> None:
        if first:
            agents = (
                injected.user_instructions(self.agents)
                if self.prof.minor < 60
                else injected.agents_message(self.plan.cwd, self.agents)
            )
            self.user_items(agents)
            self.user_items(injected.environment_legacy(self.plan.cwd, self.approval, self.plan.dev.shell))
        self.prompt(turn)
        self.emit("turn_context", self.turn_context())
        if first:
            self.token_count(null_info=True)

    def begin_turn_c(self, turn: Turn, first: bool) -> None:
        if first:
            self.developer()
            self.user_items(injected.agents_message(self.plan.cwd, self.agents))
            self.user_items(injected.environment(self.plan.cwd, self.plan.dev.shell, self.plan.day))
        self.task_started()
        self.prompt(turn)
        self.emit("turn_context", self.turn_context())
        if first:
            self.tick(0.3, 1.2)
            self.token_count(null_info=True)

    def begin_turn_modern(self, turn: Turn, first: bool) -> None:
        self.task_started()
        if first:
            self.developer()
            self.user_items(
                injected.agents_message(self.plan.cwd, self.agents),
                injected.environment(self.plan.cwd, self.plan.dev.shell, self.plan.day),
            )
        self.emit("turn_context", self.turn_context())
        self.nudge()
        self.prompt(turn)

    def developer(self) -> None:
        text = injected.permissions(self.approval)
        self.item({"type": "message", "role": "developer", "content": [self.user_text(text)]})
        self.nudge()

    def task_started(self) -> None:
        payload: Record = {"type": "task_started", "turn_id": self.turn_id}
        if self.prof.modern:
            payload["started_at"] = clock.seconds(self.now)
        payload |= {"model_context_window": self.plan.window, "collaboration_mode_kind": "default"}
        self.event(payload)
        self.nudge()

    def turn_context(self) -> Record:
        p, prof = self.plan, self.prof
        sandbox = {
            prof.sandbox_key: "workspace-write",
            "writable_roots": [p.cwd],
            "network_access": False,
            "exclude_tmpdir_env_var": False,
            "exclude_slash_tmp": False,
        }
        if not prof.c:
            return {
                "cwd": p.cwd,
                "approval_policy": self.approval,
                "sandbox_policy": sandbox,
                "model": p.model,
                "effort": p.effort,
                "summary": "auto",
            }
        ctx: Record = {"turn_id": self.turn_id, "cwd": p.cwd}
        if prof.modern:
            ctx |= {"current_date": p.day, "timezone": clock.TIMEZONE}
        ctx |= {"approval_policy": self.approval, "sandbox_policy": sandbox}
        if prof.minor >= 121:
            ctx["permission_profile"] = self.permission_profile()
        settings = {
            "model": p.model,
            "reasoning_effort": p.effort,
            "developer_instructions": injected.COLLABORATION,
        }
        ctx |= {
            "model": p.model,
            "personality": "pragmatic",
            "collaboration_mode": {"mode": "default", "settings": settings},
        }
        if prof.modern:
            ctx["realtime_active"] = False
        ctx |= {
            "effort": p.effort,
            "summary": "none" if prof.modern else "auto",
            "user_instructions": self.agents,
            "truncation_policy": {"mode": "tokens", "limit": 10000},
        }
        return ctx

    def permission_profile(self) -> Record:
        def special(kind: str, access: str) -> Record:
            return {"path": {"type": "special", "value": {"kind": kind}}, "access": access}

        entries = [
            special("root", "read"),
            special("current_working_directory", "write"),
            special("slash_tmp", "write"),
            {"path": {"type": "path", "path": f"{self.plan.cwd}/.git"}, "access": "read"},
        ]
        return {
            "type": "managed",
            "file_system": {"type": "restricted", "entries": entries},
            "network": "restricted",
        }

    def end_turn(self, turn: Turn) -> None:
        if turn.aborted:
            self.abort(turn)
            return
        if turn.final is not None:
            self.request_boundary()
            self.tick(1, 6)
            self.assistant(turn.final, "final_answer")
            self.token_count()
        if self.prof.c:
            self.nudge()
            payload: Record = {
                "type": "task_complete",
                "turn_id": self.turn_id,
                "last_agent_message": turn.final,
            }
            if self.prof.modern:
                payload |= {
                    "completed_at": clock.seconds(self.now),
                    "duration_ms": self.now - self.turn_start,
                    "time_to_first_token_ms": self.rng.randint(900, 6000),
                }
            self.event(payload)

    def abort(self, turn: Turn) -> None:
        if turn.orphan is not None:
            self.request_boundary()
            self.tick(0.5, 3)
            self.call(self.prof.shell_tool, self.exec_args(turn.orphan))
        self.tick(2, 25)
        reason: Record = {"type": "turn_aborted"}
        if self.prof.c:
            self.user_items(injected.TURN_ABORTED)
            reason["turn_id"] = self.turn_id
        reason["reason"] = "interrupted"
        self.event(reason)

    # ------------------------------------------------------------------ steps

    def step(self, step: object) -> None:
        if isinstance(step, Hiccup):
            self.hiccup(step)
            return
        self.request_boundary()
        if isinstance(step, Think):
            self.tick(1.5, 9)
            self.reasoning(step.summary)
        elif isinstance(step, Say):
            self.tick(0.3, 3)
            self.assistant(step.text, "commentary")
        elif isinstance(step, Exec):
            self.tick(0.3, 2)
            self.exec(step)
        elif isinstance(step, ApplyPatch):
            self.tick(0.5, 4)
            self.apply_patch(step)
        elif isinstance(step, UpdatePlan):
            self.tick(0.3, 2)
            self.update_plan(step)

    def request_boundary(self) -> None:
        if self.fresh_request and self.compact_due:
            self.compact()
        self.fresh_request = False

    def tool_done(self, cost: int, text: str) -> None:
        self.ctx += cost or len(text) // 3 + 80
        self.fresh_request = True

    def reasoning(self, summary: str) -> None:
        if self.prof.reasoning_events:
            self.event({"type": "agent_reasoning", "text": summary})
            self.nudge()
        summaries = [] if self.prof.modern else [{"type": "summary_text", "text": summary}]
        self.item(
            {
                "type": "reasoning",
                "summary": summaries,
                "content": None,
                "encrypted_content": self.ids.encrypted(),
            }
        )

    def assistant(self, text: str, phase: str) -> None:
        event: Record = {"type": "agent_message", "message": text}
        if self.prof.modern:
            event |= {"phase": phase, "memory_citation": None}
        self.event(event)
        self.nudge()
        item: Record = {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text}],
        }
        if self.prof.c:
            item["phase"] = phase
        self.item(item)

    def call(self, name: str, args: Record) -> str:
        call_id = self.ids.call_id()
        self.item({"type": "function_call", "name": name, "arguments": dumps(args), "call_id": call_id})
        self.nudge()
        self.token_count()
        return call_id

    def exec_args(self, step: Exec) -> Record:
        cwd = self.plan.cwd
        tool = self.prof.shell_tool
        if tool == "exec_command":
            args: Record = {
                "cmd": step.cmd,
                "workdir": cwd,
                "yield_time_ms": 1000,
                "max_output_tokens": 12000,
            }
        elif tool == "shell":
            args = {"command": ["bash", "-lc", step.cmd], "workdir": cwd, "timeout_ms": 120000}
        else:
            args = {"command": step.cmd, "workdir": cwd}
        if step.justification:
            escalate = (
                {"with_escalated_permissions": True}
                if tool == "shell"
                else {"sandbox_permissions": "require_escalated"}
            )
            args |= escalate | {"justification": step.justification}
        return args

    def exec(self, step: Exec) -> None:
        call_id = self.call(self.prof.shell_tool, self.exec_args(step))
        if step.justification:
            self.tick(2, 15)  # the user reads the approval prompt
        if self.prof.shell_tool != "exec_command":
            self.tick(step.seconds, step.seconds + 0.2)
            self.output(call_id, self.legacy_output(step))
        elif step.declined:
            self.exec_end(call_id, step, None)
            self.output(call_id, DENIED)
        elif step.seconds > 3 and self.rng.random() < 0.5:
            self.exec_polled(call_id, step)
        else:
            self.tick(step.seconds, step.seconds + 0.05)
            pid = str(self.rng.randint(1000, 99999))
            self.exec_end(call_id, step, pid)
            self.output(call_id, self.chunk(step.seconds, f"Process exited with code {step.exit_code}", step.output))
        self.tool_done(step.cost, step.output)

    def exec_polled(self, call_id: str, step: Exec) -> None:
        """A long command: the first chunk says it is still running, ``write_stdin`` collects the rest."""
        pid = self.rng.randint(1000, 99999)
        self.tick(1.0, 1.05)
        self.output(call_id, self.chunk(1.0 + self.rng.random() / 50, f"Process running with session ID {pid}", ""))
        self.tick(0.5, 3)
        args = {"session_id": pid, "chars": "", "yield_time_ms": 1000, "max_output_tokens": 12000}
        poll_id = self.call("write_stdin", args)
        rest = max(step.seconds - 1, 0.1)
        self.tick(rest, rest + 0.05)
        self.exec_end(call_id, step, str(pid))
        self.nudge()
        self.output(poll_id, self.chunk(rest, f"Process exited with code {step.exit_code}", step.output))

    def chunk(self, secs: float, status: str, text: str) -> str:
        return (
            f"Chunk ID: {self.ids.hex(6)}\nWall time: {secs:.4f} seconds\n{status}\n"
            f"Original token count: {len(text) // 4}\nOutput:\n{text}"
        )

    def legacy_output(self, step: Exec) -> str:
        if step.declined:
            return DENIED
        if self.prof.shell_tool == "shell":
            meta = {"exit_code": step.exit_code, "duration_seconds": round(step.seconds, 1)}
            return dumps({"output": step.output, "metadata": meta})
        return f"Exit code: {step.exit_code}\nWall time: {step.seconds:.1f} seconds\nOutput:\n{step.output}"

    def exec_end(self, call_id: str, step: Exec, pid: str | None) -> None:
        if not self.prof.end_events:
            return
        shell = f"/bin/{self.plan.dev.shell}"
        payload: Record = {"type": "exec_command_end", "call_id": call_id}
        if pid:
            payload["process_id"] = pid
        stderr, text = (DENIED, DENIED) if step.declined else ("", step.output)
        status = "declined" if step.declined else "completed" if step.exit_code == 0 else "failed"
        secs = int(step.seconds)
        payload |= {
            "turn_id": self.turn_id,
            "command": [shell, "-lc", step.cmd],
            "cwd": self.plan.cwd,
            "parsed_cmd": parsed_cmd(step.cmd),
            "source": "unified_exec_startup",
            "stdout": "",
            "stderr": stderr,
            "aggregated_output": text,
            "exit_code": step.exit_code,
            "duration": {"secs": secs, "nanos": int((step.seconds - secs) * 1e9)},
            "formatted_output": "",
            "status": status,
        }
        self.event(payload)

    def output(self, call_id: str, text: str, kind: str = "function_call_output") -> None:
        self.item({"type": kind, "call_id": call_id, "output": text})

    def apply_patch(self, step: ApplyPatch) -> None:
        call_id = self.ids.call_id()
        self.item(
            {
                "type": "custom_tool_call",
                "status": "completed",
                "call_id": call_id,
                "name": "apply_patch",
                "input": step.patch.text,
            }
        )
        self.nudge()
        self.token_count()
        self.tick(0.05, 2.5)
        ok = f"Success. Updated the following files:\n{step.patch.stat}\n"
        failure = PATCH_DENIED if step.declined else step.error
        if self.prof.end_events:
            self.patch_end(call_id, step.patch, failure, step.declined)
            self.nudge()
        if failure:
            self.output(call_id, failure, "custom_tool_call_output")
        else:
            meta = {"exit_code": 0, "duration_seconds": round(self.rng.uniform(0.1, 2.5), 1)}
            self.output(call_id, dumps({"output": ok, "metadata": meta}), "custom_tool_call_output")
        self.tool_done(step.cost, step.patch.billed or step.patch.text)

    def patch_end(self, call_id: str, patch: Patch, failure: str | None, declined: bool) -> None:
        path = patch.path if patch.path.startswith("/") else f"{self.plan.cwd}/{patch.path}"
        change: Record = (
            {"type": "update", "unified_diff": patch.diff, "move_path": None}
            if patch.kind == "update"
            else {"type": patch.kind, "content": patch.diff}
        )
        status = "declined" if declined else "failed" if failure else "completed"
        self.event(
            {
                "type": "patch_apply_end",
                "call_id": call_id,
                "turn_id": self.turn_id,
                "stdout": "" if failure else f"Success. Updated the following files:\n{patch.stat}\n",
                "stderr": failure or "",
                "success": not failure,
                "changes": {path: change},
                "status": status,
            }
        )

    def update_plan(self, step: UpdatePlan) -> None:
        args: Record = {"plan": [{"step": s, "status": st} for s, st in step.steps]}
        if step.explanation:
            args["explanation"] = step.explanation
        call_id = self.call("update_plan", args)
        self.tick(0.01, 0.1)
        self.output(call_id, "Plan updated")
        self.tool_done(0, "Plan updated")

    def hiccup(self, step: Hiccup) -> None:
        if not self.prof.c:
            return
        if step.kind == "error":
            self.tick(2, 20)
            self.event({"type": "error", "message": step.message, "codex_error_info": step.info})
            return
        for n in range(1, step.attempts + 1):
            self.tick(1, 8)
            self.event(
                {
                    "type": "stream_error",
                    "message": f"Reconnecting... {n}/5",
                    "codex_error_info": {"response_stream_disconnected": {"http_status_code": None}},
                    "additional_details": "stream disconnected before completion: error sending request for url "
                    "(https://chatgpt.com/backend-api/codex/responses)",
                }
            )

    # ------------------------------------------------------------------ tokens and compaction

    def token_count(self, null_info: bool = False) -> None:
        if null_info and self.prof.rate_style is None:
            return
        info = None if null_info else self.usage()
        self.event({"type": "token_count", "info": info, "rate_limits": self.rate_limits()})
        self.nudge()

    def usage(self) -> Record:
        rng = self.rng
        inp = self.ctx
        cached = 0 if not self.requests else min(inp, int(inp * rng.uniform(0.55, 0.97)) // 128 * 128)
        out = rng.randint(30, 650)
        last = {
            "input_tokens": inp,
            "cached_input_tokens": cached,
            "output_tokens": out,
            "reasoning_output_tokens": rng.randint(0, out * 7 // 10),
            "total_tokens": inp + out,
        }
        for key, value in last.items():
            self.totals[key] += value
        self.requests += 1
        self.ctx += out
        if inp > 0.86 * self.plan.window:
            self.compact_due = True
        return {
            "total_token_usage": dict(self.totals),
            "last_token_usage": last,
            "model_context_window": self.plan.window,
        }

    def rate_limits(self) -> Record | None:
        style = self.prof.rate_style
        if style is None:
            return None
        self.rates[0] = min(99.0, self.rates[0] + self.rng.choice((0, 0, 0, 1)))
        primary: Record = {"used_percent": float(int(self.rates[0])), "window_minutes": 300}
        secondary: Record = {"used_percent": float(int(self.rates[1])), "window_minutes": 10080}
        if style == "seconds":
            primary |= {"window_minutes": 299, "resets_in_seconds": self.rates[2]}
            secondary |= {"window_minutes": 10079, "resets_in_seconds": self.rates[3]}
            return {"primary": primary, "secondary": secondary}
        primary["resets_at"] = clock.seconds(self.plan.start_ms) + self.rates[2]
        secondary["resets_at"] = clock.seconds(self.plan.start_ms) + self.rates[3]
        if style == "at":
            return {"primary": primary, "secondary": secondary}
        return {
            "limit_id": "codex",
            "limit_name": None,
            "primary": primary,
            "secondary": secondary,
            "credits": {"has_credits": False, "unlimited": False, "balance": None},
            "plan_type": None,
        }

    def compact(self) -> None:
        self.tick(4, 15)
        p = self.plan
        first = self.story.turns[0].prompt
        summary = (
            f"Working in {p.repo.name} on branch {p.branch}. The user asked: {first.splitlines()[0]} "
            "Changes so far are applied and the focused tests pass; remaining work is listed in the latest "
            "user message. Keep edits minimal and re-run the tests after each change."
        )
        payload: Record = {"message": summary}
        if self.prof.c:
            payload["replacement_history"] = [
                {"type": "message", "role": "user", "content": [self.user_text(first)]},
                {
                    "type": "message",
                    "role": "user",
                    "content": [self.user_text(injected.SUMMARY_PREFIX + summary)],
                },
            ]
        self.emit("compacted", payload)
        self.nudge()
        self.event({"type": "context_compacted"})
        self.ctx = self.rng.randint(18_000, 34_000)
        self.compact_due = False


def render_enveloped(plan: SessionPlan, story: Story, rng: random.Random, ids: Ids) -> list[Record]:
    return Renderer(plan, story, rng, ids).render()


def render_fork(plan: SessionPlan, story: Story, rng: random.Random, ids: Ids, parent: list[Record]) -> list[Record]:
    """A forked thread: its own meta, the parent's history replayed in one burst, then its own turns."""
    renderer = Renderer(plan, story, rng, ids)
    renderer.ctx = rng.randint(40_000, 90_000)
    assert plan.parent is not None
    renderer.emit("session_meta", renderer.meta(forked_from=plan.parent.session_id))
    for record in parent:
        renderer.now += rng.randint(0, 1)
        renderer.records.append(
            {"timestamp": clock.iso(renderer.now), "type": record["type"], "payload": record["payload"]}
        )
    renderer.tick(6, 40)
    return renderer.render()
