"""The parser against real rollout files written by Codex itself (tests/fixtures/codex_samples)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ccl_tui.model.events import EVENT_COLUMNS
from ccl_tui.sources.parse import parse_file

SAMPLE_FILES = sorted((Path(__file__).parent / "fixtures" / "codex_samples").glob("*.jsonl"))
COL = {c: i for i, c in enumerate(EVENT_COLUMNS)}


def kinds(rows: list[tuple]) -> Counter[str]:
    return Counter(r[COL["kind"]] for r in rows)


def test_sample_files_present() -> None:
    assert len(SAMPLE_FILES) == 3


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_every_sample_parses_cleanly(path: Path) -> None:
    res = parse_file(str(path))
    assert res.error is None
    assert res.bad == []
    assert res.pending_bytes == 0
    assert res.session is not None
    assert res.lines == sum(1 for _ in path.open("rb"))
    # No record type the format defines is left as "other".
    assert [r for r in res.rows if r[COL["kind"]] == "other"] == []
    # Sequence numbers are dense and ordered; line numbers increase.
    assert [r[COL["seq"]] for r in res.rows] == list(range(len(res.rows)))
    lines = [r[COL["line"]] for r in res.rows]
    assert lines == sorted(lines)
    # Encrypted reasoning never reaches the store.
    assert not any("gAAAAAB" in (r[COL["text"]] or "") for r in res.rows)


def test_codemie_unified_exec_session() -> None:
    res = parse_file(str(SAMPLE_FILES[0]))
    s = res.session
    assert s is not None
    assert s.id == "019e1625-789d-76c0-80ab-3724b5ddb799"
    assert (s.originator, s.source, s.origin, s.cli_version) == ("codex-tui", "cli", "interactive", "0.125.0")
    assert s.model == "gpt-5.5"
    assert s.git_commit == "c8c252acd853de59c54b5c31374fec6028ee812e"
    assert s.git_branch == "feat/codex-agent-plugin"
    assert s.repo == "codemie-code"
    k = kinds(res.rows)
    assert k["user_message"] == 2
    assert k["turn_started"] == 2 and k["turn_completed"] == 2
    assert k["assistant_message"] == 13  # response items only; agent_message echoes dropped
    assert k["tool_call"] == 102  # 99 function calls + 3 apply_patch custom calls
    rows = res.rows
    prompts = [r for r in rows if r[COL["kind"]] == "user_message"]
    assert prompts[0][COL["text"]] == "show tools"
    assert [p[COL["turn"]] for p in prompts] == [1, 2]
    # The first npm test run failed (exit 1 in both the unified-exec output and exec_command_end); the
    # re-runs after the fix passed.
    npm = [r for r in rows if r[COL["kind"]] == "tool_output" and (r[COL["command"]] or "").startswith("npm test")]
    first_call = npm[0][COL["call_id"]]
    first = [r for r in npm if r[COL["call_id"]] == first_call and r[COL["exit_code"]] is not None]
    assert {(r[COL["raw_type"]], r[COL["exit_code"]]) for r in first} == {
        ("response_item/function_call_output", 1),
        ("event_msg/exec_command_end", 1),
    }
    later = {r[COL["exit_code"]] for r in npm if r[COL["call_id"]] != first_call and r[COL["exit_code"]] is not None}
    assert later == {0}
    # write_stdin outputs are attributed to the exec_command call they continue.
    call_ids = {r[COL["call_id"]] for r in rows if r[COL["kind"]] == "tool_call" and r[COL["tool"]] == "exec_command"}
    continued = [
        r for r in rows if r[COL["kind"]] == "tool_output" and r[COL["data"]] and "via_call_id" in r[COL["data"]]
    ]
    assert continued and all(r[COL["call_id"]] in call_ids for r in continued)
    # Patches: all three applied, with their files.
    patches = [r for r in rows if r[COL["kind"]] == "patch_apply"]
    assert len(patches) == 6 and all(r[COL["success"]] == 1 for r in patches)
    assert "codemie-code-reasoning.test.ts" in patches[0][COL["data"]]


def test_mcp_desktop_session() -> None:
    res = parse_file(str(SAMPLE_FILES[1]))
    s = res.session
    assert s is not None
    assert (s.originator, s.source, s.origin) == ("Codex Desktop", "vscode", "ide")
    k = kinds(res.rows)
    assert k["tool_call"] == 5 and k["tool_output"] == 5
    tools = {r[COL["tool"]] for r in res.rows if r[COL["kind"]] == "tool_output"}
    assert "mcp__cloud-associates__execute_workflow" in tools
    assert k["turn_context"] == 1  # 6 identical per-request copies in one turn, kept once
    assert k["reasoning"] == 6


def test_orphan_call_has_no_output() -> None:
    res = parse_file(str(SAMPLE_FILES[2]))
    k = kinds(res.rows)
    assert k["tool_call"] == 1 and k["tool_output"] == 0
    assert k["user_message"] == 1
