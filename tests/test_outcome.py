"""Every result shape Codex writes, decided in one place (ccl_tui.sources.outcome), each pinned here.

Two kinds of cases:
* lines taken from real rollouts in tests/fixtures (``REAL``): the result record and its call, as Codex wrote
  them, with the outcome read off the raw line by hand;
* texts from the openai/codex source where no public rollout shows the shape (``FROM_SOURCE``), each naming
  the codex-rs file that formats it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccl_tui.sources.outcome import (
    Rejection,
    Status,
    classify_exec_end,
    classify_mcp_end,
    classify_output,
    classify_patch_end,
    rejection_of,
    truncation_markers,
)

FIXTURES = Path(__file__).parent / "fixtures"


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _tool_of(records: list[dict], call_id: str) -> str | None:
    for r in records:
        p = r.get("payload", r)
        if p.get("type") in ("function_call", "custom_tool_call") and p.get("call_id") == call_id:
            if p.get("name") in ("shell", "shell_command", "exec_command"):
                args = json.loads(p["arguments"]) if isinstance(p.get("arguments"), str) else {}
                cmd = args.get("command", args.get("cmd"))
                if (isinstance(cmd, list) and cmd[:1] == ["apply_patch"]) or (
                    isinstance(cmd, str) and cmd.lstrip().startswith("apply_patch")
                ):
                    return "apply_patch"
            return str(p.get("name"))
    return None


# (fixture, 1-based line of the result record, status, exit code, rejection)
REAL = [
    # era A, shell tool: JSON with metadata.exit_code
    ("codex_real/a_soichiro_shell_apply_patch_argv.jsonl", None, "ok", 0, None),
    # era B 0.46, PowerShell through the shell tool: rg exit 1 (a no-match probe is still a non-zero exit)
    ("codex_real/b_mcpomat_rg_probe_correction.jsonl", 18, "failed", 1, None),
    # era B 0.63, shell_command: "Exit code: 0 / Wall time / Output:" text
    ("codex_real/b_codebutler_shell_command_text.jsonl", None, "ok", 0, None),
    # era A: an MCP result as a JSON string of a content list, an error inside
    ("codex_real/a_ocodex_mcp_search_error.jsonl", None, "failed", None, None),
    # era B 0.40, VS Code: the user rejected the command
    ("codex_real/b_neurodata_vscode_rejected_exec.jsonl", None, "rejected", None, "user"),
    # era C 0.125: write_stdin to a session whose stdin had closed
    ("codex_samples/codemie_tui_0125.jsonl", 37, "failed", None, None),
    # era C 0.104, Desktop: an MCP result scrubbed by the donor's redactor: nothing can be read
    ("codex_samples/localpush_mcp_desktop_0104.jsonl", 19, "unknown", None, None),
]


def _first_result(records: list[dict], want: str) -> int:
    """Line of the first result record whose decided status is ``want`` (when the case gives no line)."""
    for i, r in enumerate(records, 1):
        p = r.get("payload", r)
        if (
            p.get("type") in ("function_call_output", "custom_tool_call_output")
            and classify_output(p.get("output"), _tool_of(records, p.get("call_id", ""))).status.value == want
        ):
            return i
    raise LookupError(want)


@pytest.mark.parametrize(("fixture", "line", "status", "code", "rejection"), REAL, ids=[c[0] for c in REAL])
def test_real_result_records(
    fixture: str, line: int | None, status: str, code: int | None, rejection: str | None
) -> None:
    path = FIXTURES / fixture
    if not path.exists():
        pytest.fail(f"fixture missing: {fixture}")
    records = _records(path)
    line = line or _first_result(records, status)
    p = records[line - 1].get("payload", records[line - 1])
    assert p["type"] in ("function_call_output", "custom_tool_call_output"), p["type"]
    out = classify_output(p["output"], _tool_of(records, p["call_id"]))
    assert (out.status.value, out.exit_code) == (status, code), out.reason
    assert (out.rejection.value if out.rejection else None) == rejection


FROM_SOURCE = [
    # core/src/codex.rs (pre-tools era, 2025) handle_sandbox_error: format!("failed in sandbox {:?} with execution error: {}")
    (
        "failed in sandbox LinuxSeccomp with execution error: sandbox denied exec error, exit code: 2, stdout: , "
        "stderr: bash: syntax error near unexpected token `)'",
        "shell",
        "failed",
        2,
        None,
    ),
    (
        "failed in sandbox MacosSeatbelt with execution error: sandbox denied exec error, exit code: 1, stdout: total 40",
        "shell",
        "failed",
        1,
        None,
    ),
    ("failed in sandbox LinuxSeccomp with execution error: command timed out", "shell", "timeout", None, None),
    # tools era: ToolError::Codex -> format!("execution error: {err:?}")
    ("execution error: Sandbox(Signal(9))", "shell", "failed", None, None),
    # tools/mod.rs build_content_with_timeout
    (
        "Exit code: 124\nWall time: 10 seconds\nOutput:\ncommand timed out after 10001 milliseconds\n",
        "shell_command",
        "timeout",
        124,
        None,
    ),
    # tools/events.rs: "rejected by user" normalized per tool
    ("exec command rejected by user", "shell", "rejected", None, "user"),
    ("patch rejected by user", "apply_patch", "rejected", None, "user"),
    # unified exec: Debug-wrapped orchestrator error (handlers/unified_exec/exec_command.rs)
    (
        'exec_command failed for `/bin/zsh -lc \'rm -rf dist\'`: CreateProcess { message: "Rejected(\\"rejected by user\\")" }',
        "exec_command",
        "rejected",
        None,
        "user",
    ),
    # guardian/review.rs
    (
        "This action was rejected due to unacceptable risk.\nReason: force-pushes to main\nThe agent must stop and "
        "request user input.",
        "shell_command",
        "rejected",
        None,
        "guardian",
    ),
    (
        "Automatic approval review could not complete, so this action was blocked.\nReason: timeout",
        "shell",
        "rejected",
        None,
        "guardian",
    ),
    # exec policy "forbidden" (orchestrator.rs), approval settings (apply_patch.rs SafetyCheck::Reject)
    ("`/bin/zsh -lc 'git rev-parse HEAD'` rejected: blocked by policy", "shell", "rejected", None, "policy"),
    (
        "patch rejected: writing outside of the project; rejected by user approval settings",
        "apply_patch",
        "rejected",
        None,
        "policy",
    ),
    (
        "approval policy is Never; reject command — you cannot ask for escalated permissions if the approval policy is "
        "Never",
        "exec_command",
        "rejected",
        None,
        "policy",
    ),
    # network_approval.rs
    ('Network access to "http://registry.npmjs.org:80" was blocked by policy.', "shell", "rejected", None, "policy"),
    # browser / web tools blocked by the user's URL policy (seen in real rollouts)
    (
        "The user has requested that http://localhost:5173 should not be used. Please ask the user.",
        "mcp__browser__open",
        "rejected",
        None,
        "policy",
    ),
    # mcp_tool_call.rs approval declined
    (
        '{"content":[{"type":"text","text":"user rejected MCP tool call"}],"isError":true}',
        "mcp__db__query",
        "rejected",
        None,
        "user",
    ),
    # tools/parallel.rs abort_message
    ("Wall time: 3.2 seconds\naborted by user", "shell_command", "aborted", None, None),
    ("aborted by user after 12.0s", "mcp__x__y", "aborted", None, None),
    ("aborted", "shell", "aborted", None, None),
    # unified_exec/errors.rs
    ("write_stdin failed: Unknown process id 1234", "write_stdin", "failed", None, None),
    (
        "Chunk ID: 87eb5c\nWall time: 1.8484 seconds\nProcess exited with code 0\nOriginal token count: 5\nOutput:\nhello\n",
        "exec_command",
        "ok",
        0,
        None,
    ),
    (
        "Chunk ID: f800eb\nWall time: 1.0024 seconds\nProcess running with session ID 32244\nOriginal token count: 63\n"
        "Output:\nstarting",
        "exec_command",
        "running",
        None,
        None,
    ),
    # apply-patch: success summary and verification failures, as a custom tool and through the shell
    (
        "Exit code: 0\nWall time: 0 seconds\nOutput:\nSuccess. Updated the following files:\nA hello.txt\n",
        "apply_patch",
        "ok",
        0,
        None,
    ),
    (
        "apply_patch verification failed: Failed to find expected lines in src/app.ts:\n  return x;",
        "apply_patch",
        "failed",
        None,
        None,
    ),
    ('error: Failed to find expected lines ["  return x;"] in src/app.ts', "apply_patch", "failed", None, None),
    ("Success. Updated the following files:\nM src/app.ts\n", "apply_patch", "ok", None, None),
    # MCP: the whole CallToolResult (oldest), a content list (middle), tool call errors
    ('{"content":[{"type":"text","text":"3 rows"}],"isError":false}', "mcp__db__query", "ok", None, None),
    (
        '{"content":[{"type":"text","text":"relation \\"users\\" does not exist"}],"isError":true}',
        "mcp__db__query",
        "failed",
        None,
        None,
    ),
    ('[{"type":"text","text":"pong"}]', "mcp__x__ping", "ok", None, None),
    (
        "tool call error: tool call failed for `playwright/browser_navigate`\n\nCaused by:\n    0: timed out awaiting "
        "tools/call after 60s",
        "mcp__playwright__browser_navigate",
        "failed",
        None,
        None,
    ),
    ('err: "tool call error: no such tool"', "mcp__x__y", "failed", None, None),
]


@pytest.mark.parametrize(
    ("raw", "tool", "status", "code", "rejection"), FROM_SOURCE, ids=[f"{i}-{c[2]}" for i, c in enumerate(FROM_SOURCE)]
)
def test_result_texts_from_the_codex_source(
    raw: str, tool: str, status: str, code: int | None, rejection: str | None
) -> None:
    out = classify_output(raw, tool)
    assert (out.status.value, out.exit_code) == (status, code), out.reason
    assert (out.rejection.value if out.rejection else None) == rejection
    assert out.reason  # every decision says which shape decided it


def test_shell_outputs_that_merely_mention_a_rejection_are_not_rejections() -> None:
    for text in (
        "patch rejected by user was logged 3 times\n",
        "grep: This action was rejected due to unacceptable risk",
    ):
        out = classify_output(
            json.dumps({"output": text, "metadata": {"exit_code": 0, "duration_seconds": 0.1}}), "shell"
        )
        assert out.status is Status.OK
    assert rejection_of("cat log\nexec command rejected by user") is None


def test_event_records() -> None:
    declined = classify_exec_end(
        {
            "call_id": "c",
            "exit_code": -1,
            "status": "declined",
            "stderr": "exec command rejected by user",
            "aggregated_output": "",
        }
    )
    assert declined.status is Status.REJECTED and declined.rejection is Rejection.USER
    # the command's own output mentioning a refusal does not make it one
    ran = classify_exec_end(
        {
            "call_id": "c",
            "exit_code": 0,
            "status": "completed",
            "aggregated_output": "This action was rejected due to unacceptable risk (docs)",
        }
    )
    assert ran.status is Status.OK
    failed = classify_exec_end(
        {
            "call_id": "c",
            "exit_code": 2,
            "status": "failed",
            "aggregated_output": "boom",
            "duration": {"secs": 1, "nanos": 500_000_000},
        }
    )
    assert (failed.status, failed.exit_code, failed.duration_ms) == (Status.FAILED, 2, 1500)
    assert (
        classify_patch_end({"success": False, "stderr": "Failed to find expected lines", "status": "failed"}).status
        is Status.FAILED
    )
    assert (
        classify_patch_end({"success": False, "stderr": "patch rejected by user", "status": "declined"}).status
        is Status.REJECTED
    )
    assert (
        classify_mcp_end({"result": {"Err": "tool call error: timed out awaiting tools/call after 60s"}}).status
        is Status.FAILED
    )
    assert (
        classify_mcp_end({"result": {"Ok": {"content": [{"type": "text", "text": "ok"}], "isError": False}}}).status
        is Status.OK
    )


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Total output lines: 500\n\nlast lines", {"total_lines": 500}),
        ("head\n[... omitted 120 of 400 lines ...]\n\ntail", {"omitted_lines": 120, "total_lines": 400}),
        ("start …4821 tokens truncated… end", {"tokens_truncated": 4821}),
        ("start …900 chars truncated… end", {"chars_truncated": 900}),
        ("[... output truncated to fit 10240 bytes ...]", {"chars_truncated": 10240}),
        ("all 40 lines here", None),
    ],
)
def test_truncation_markers_codex_writes(text: str, found: dict | None) -> None:
    assert truncation_markers(text) == found
