"""Render a story in the unenveloped era-A format (Codex Rust CLI ≈ 0.2x-0.36, summer 2025).

Line 1 is a bare session header, ``{"record_type":"state"}`` markers separate turns, and every other line is a
bare ResponseItem without a timestamp. There are no event_msg lines at all.
"""

from __future__ import annotations

import random

from ccl_tui.demo import clock, injected
from ccl_tui.demo.causes import DENIED
from ccl_tui.demo.ids import Ids
from ccl_tui.demo.plan import SessionPlan
from ccl_tui.demo.render import PATCH_DENIED, Record, dumps
from ccl_tui.demo.steps import ApplyPatch, Exec, Say, Story, Think

STATE: Record = {"record_type": "state"}


class LegacyRenderer:
    def __init__(self, plan: SessionPlan, story: Story, rng: random.Random, ids: Ids) -> None:
        self.plan, self.story, self.rng, self.ids = plan, story, rng, ids
        self.records: list[Record] = []

    def render(self) -> list[Record]:
        p = self.plan
        agents = injected.agents_md(p.repo, p.post_fix)
        header: Record = {"id": p.session_id, "timestamp": clock.iso(p.start_ms)}
        if p.cli_version:
            header |= {"cwd": p.cwd, "originator": p.originator, "cli_version": p.cli_version}
        header |= {
            "instructions": agents,
            "git": {"commit_hash": p.commit, "branch": p.branch, "repository_url": p.repo.url},
        }
        self.records += [header, dict(STATE)]
        self.user(injected.user_instructions(agents))
        self.user(injected.environment_legacy(p.cwd, "on-request", p.dev.shell))
        self.records.append(dict(STATE))
        for turn in self.story.turns:
            self.user(turn.prompt)
            for step in turn.steps:
                self.step(step)
            if turn.final is not None:
                self.assistant(turn.final)
            self.records.append(dict(STATE))
        return self.records

    def user(self, text: str) -> None:
        self.records.append(
            {"type": "message", "id": None, "role": "user", "content": [{"type": "input_text", "text": text}]}
        )

    def assistant(self, text: str) -> None:
        self.records.append(
            {
                "type": "message",
                "id": "msg_" + self.ids.hex(32),
                "role": "assistant",
                "content": [{"type": "output_text", "text": text}],
            }
        )

    def step(self, step: object) -> None:
        if isinstance(step, Think):
            self.records.append(
                {
                    "type": "reasoning",
                    "id": "rs_" + self.ids.hex(32),
                    "summary": [{"type": "summary_text", "text": step.summary}],
                    "encrypted_content": self.ids.encrypted(),
                }
            )
        elif isinstance(step, Say):
            self.assistant(step.text)
        elif isinstance(step, Exec):
            args: Record = {
                "command": ["bash", "-lc", step.cmd],
                "workdir": self.plan.cwd,
                "timeout_ms": 120000,
            }
            if step.justification:
                args |= {"with_escalated_permissions": True, "justification": step.justification}
            output = DENIED if step.declined else self.result(step.output, step.exit_code, step.seconds)
            self.shell(args, output)
        elif isinstance(step, ApplyPatch):
            ok = f"Success. Updated the following files:\n{step.patch.stat}\n"
            seconds = round(self.rng.uniform(0, 0.3), 1)
            output = PATCH_DENIED if step.declined else self.result(step.error or ok, int(bool(step.error)), seconds)
            self.shell({"command": ["apply_patch", step.patch.text], "workdir": self.plan.cwd}, output)

    def result(self, text: str, code: int, seconds: float) -> str:
        return dumps({"output": text, "metadata": {"exit_code": code, "duration_seconds": round(seconds, 1)}})

    def shell(self, args: Record, output: str) -> None:
        call_id = self.ids.call_id()
        self.records.append(
            {
                "type": "function_call",
                "id": "fc_" + self.ids.hex(32),
                "name": "shell",
                "arguments": dumps(args),
                "call_id": call_id,
            }
        )
        self.records.append({"type": "function_call_output", "call_id": call_id, "output": output})


def render_legacy(plan: SessionPlan, story: Story, rng: random.Random, ids: Ids) -> list[Record]:
    return LegacyRenderer(plan, story, rng, ids).render()
