"""What a friction moment cost, and when it happened, on shapes the demo corpus never shows.

Synthetic files in Codex's real record shapes (the real gold set has no example of these exact sequences):
an era-A MCP failure resolved by a later success in the content-list form, a failure before the session's first
token count, a session with no ``task_complete`` at all (era B), an orphaned call followed by a new prompt.
"""

from __future__ import annotations

import json
from pathlib import Path

from ccl_tui.config.settings import ImpactWeights, SignalThresholds
from ccl_tui.issues.build import SessionInfo, build_issues
from ccl_tui.signals.gold import detect_file
from tests.builders import Rollout


def _legacy(path: Path, items: list[dict]) -> Path:
    header = {
        "id": "6f7de846-1612-418c-8235-386f4eba829e",
        "timestamp": "2025-09-06T16:48:47.000Z",
        "instructions": None,
        "git": {"commit_hash": "7d4f4e93", "branch": "main"},
    }
    lines = [header, {"record_type": "state"}, *items]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


def _user(text: str) -> dict:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def _call(cid: str, name: str, args: dict) -> dict:
    return {"type": "function_call", "name": name, "arguments": json.dumps(args), "call_id": cid}


def _out(cid: str, output: str) -> dict:
    return {"type": "function_call_output", "call_id": cid, "output": output}


def test_an_mcp_failure_is_resolved_by_its_next_content_list_success(tmp_path: Path) -> None:
    p = _legacy(
        tmp_path / "rollout-2025-09-06T18-48-47-6f7de846-1612-418c-8235-386f4eba829e.jsonl",
        [
            _user("search the docs for the retry policy"),
            _call("c1", "search__search", {"query": "retry policy"}),
            _out(
                "c1",
                json.dumps(
                    [
                        {
                            "text": "Search error: Google CSE HTTP 400: Request contains an invalid argument.",
                            "type": "text",
                        }
                    ]
                ),
            ),
            _call("c2", "search__search", {"query": "retry"}),
            _out("c2", json.dumps([{"text": "1. Retries: exponential backoff, 5 attempts", "type": "text"}])),
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Found it."}]},
        ],
    )
    _events, signals = detect_file(p)
    err = next(s for s in signals if s.kind == "error")
    assert err.signature == "tool error | mcp search" and err.cost.resolved
    assert err.timestamp == "2025-09-06T16:48:47.000Z"  # the header's time: legacy lines carry none
    assert not any(s.kind == "command_failure" for s in signals)


def test_tokens_lost_are_a_delta_even_before_the_first_count(tmp_path: Path) -> None:
    r = Rollout(era="C")
    r.user("run the tests")
    r.exec("pytest -q", "E   ModuleNotFoundError: No module named 'httpx'\n1 error", 2)  # before any token count
    r.tokens(150_000, 3_000_000)  # cumulative: the session had already spent 3M tokens (mostly cached context)
    r.exec("uv sync", "Installed 4 packages", 0)
    r.tokens(152_000, 3_160_000)
    r.exec("pytest -q", "24 passed", 0)
    r.complete()
    _events, signals = detect_file(r.write(tmp_path))
    fail = next(s for s in signals if s.kind == "command_failure")
    assert fail.cost.resolved
    # new input + output since the failure, not the 3M cumulative count
    assert 0 < fail.cost.tokens < 400_000, fail.cost.tokens


def test_without_task_complete_a_final_answer_completes_the_turn(tmp_path: Path) -> None:
    r = Rollout(era="B", cli_version="0.58.0")
    r.user("add a /health endpoint")
    r.patch("app.py", ok=True)
    r.assistant("Added /health.")
    r.user("that's not what I asked for, I wanted it under /api")
    r.patch("app.py", ok=True)
    r.assistant("Moved it to /api/health.")
    _events, signals = detect_file(r.write(tmp_path))
    push = next(s for s in signals if s.kind == "user_pushback")
    assert push.signature == "pushback | correction | edits"
    assert push.cost.resolved and push.cost.turns == 0  # resolved by the agent's answer in the same turn


def test_an_orphaned_call_then_a_new_prompt_is_an_inferred_interrupt(tmp_path: Path) -> None:
    r = Rollout(era="B", cli_version="0.58.0")
    r.user("run the migration")
    cid = r.call_id()
    r.add(
        "response_item",
        {
            "type": "function_call",
            "name": "shell",
            "call_id": cid,
            "arguments": json.dumps({"command": ["bash", "-lc", "alembic upgrade head"]}),
        },
    )
    r.tick(900)  # no result: the user pressed Esc; 15 minutes later a new prompt
    r.user("use the staging database instead")
    _events, signals = detect_file(r.write(tmp_path))
    stop = next(s for s in signals if s.kind == "interrupt")
    assert stop.call_id == cid and "no result" in stop.detail
    assert stop.signature == "interrupt | during alembic upgrade"


def test_undated_issues_get_the_recency_floor_not_now() -> None:
    from ccl_tui.model.signals import Cost, Signal

    def sig(sid: str, ts: str | None) -> Signal:
        return Signal("command_failure", sid, [1], 1, 0.5, "pytest | boom", "x", timestamp=ts, cost=Cost(resolved=True))

    infos = {
        "old": SessionInfo("a", "interactive", None),
        "new": SessionInfo("a", "interactive", "2026-10-01T00:00:00Z"),
    }
    issues = build_issues([sig("old", None), sig("new", "2026-10-01T00:00:00Z")], infos, ImpactWeights())
    assert issues[0].impact.recency == 1.0
    lone = build_issues([sig("old", None)], {"old": infos["old"]}, ImpactWeights())
    assert lone[0].impact.recency == ImpactWeights().recency_floor and lone[0].impact.days_since_last is None


def test_approval_wait_threshold_is_a_setting() -> None:
    assert SignalThresholds(approval_wait_min_s=30).approval_wait_min_s == 30
