"""Write the gold set: small rollout files in Codex's real format, each labelled with the signals it must give.

    python tests/gold/make_gold.py      # rewrites tests/gold/cases/*.jsonl and tests/gold/labels.json

Each case names its *focus* kinds and the exact signals of those kinds it must produce, as
``(kind, line)`` where ``line`` is the 1-based line of the primary evidence record in the file. Positives
and near-miss negatives sit side by side. Labels are written here by hand; detectors are never consulted.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from tests.builders import Rollout, legacy_rollout  # noqa: E402

Case = tuple[str, list[tuple[str, int]], list[str]]  # (jsonl text, expected, focus kinds)
CASES: dict[str, Callable[[], Case]] = {}

PYTEST_MISSING = (
    "==================================== ERRORS ====================================\n"
    "_________________ ERROR collecting tests/test_invoices.py _________________\n"
    "ImportError while importing test module '/home/dev/src/billing-api/tests/test_invoices.py'.\n"
    "tests/test_invoices.py:3: in <module>\n    import httpx\n"
    "E   ModuleNotFoundError: No module named 'httpx'\n"
    "=========================== short test summary info ============================\n"
    "ERROR tests/test_invoices.py\n!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!\n"
    "1 error in 0.31s\n"
)
PYTEST_OK = "........................                                                 [100%]\n24 passed in 1.92s\n"
NPM_EAI = (
    "npm ERR! code EAI_AGAIN\nnpm ERR! syscall getaddrinfo\nnpm ERR! errno EAI_AGAIN\n"
    "npm ERR! request to https://registry.npmjs.org/zod failed, reason: getaddrinfo EAI_AGAIN registry.npmjs.org\n"
)


def case(focus: list[str]) -> Callable[[Callable[[], tuple[Rollout | str, list[tuple[str, int]]]]], None]:
    def register(fn: Callable[[], tuple[Rollout | str, list[tuple[str, int]]]]) -> None:
        def build() -> Case:
            r, expected = fn()
            text = r if isinstance(r, str) else r.text()
            return text, expected, focus

        CASES[fn.__name__] = build

    return register


def is_type(t: str) -> Callable[[dict], bool]:
    return lambda p: p.get("type") == t


# ---------------------------------------------------------------------------------------------- command_failure
@case(["command_failure"])
def cf_pytest_missing_module() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-01T09:00:00")
    r.user("add pagination to the invoices endpoint")
    r.exec("pytest -q tests/test_invoices.py", PYTEST_MISSING, 2)
    fail = r.last_line
    r.exec("uv sync", "Resolved 31 packages in 12ms\nInstalled 4 packages in 20ms\n", 0)
    r.exec("pytest -q tests/test_invoices.py", PYTEST_OK, 0)
    r.assistant("Tests pass now.")
    r.complete()
    return r, [("command_failure", fail)]


@case(["command_failure"])
def cf_era_b_npm_network() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-01T10:00:00", era="B", cli_version="0.58.0")
    r.user("add zod and validate the signup form")
    r.exec("npm install zod", NPM_EAI, 1)
    return r, [("command_failure", r.last_line)]


@case(["command_failure"])
def cf_probes_are_not_failures() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-01T11:00:00")
    r.user("is there any TODO left in src?")
    r.exec("grep -rn 'TODO' src", "", 1)
    r.exec("rg -n 'FIXME' .", "", 1)
    r.exec("diff -u a.txt b.txt", "--- a.txt\n+++ b.txt\n@@ -1 +1 @@\n-a\n+b\n", 1)
    r.exec("test -f .env", "", 1)
    r.exec("which cargo", "", 1)
    r.exec("git diff --exit-code", "diff --git a/x b/x\n", 1)
    r.assistant("No TODOs left.")
    r.complete()
    return r, []


@case(["command_failure"])
def cf_grep_real_error() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-01T12:00:00")
    r.user("find the handler")
    r.exec("grep -E '(' src/app.py", "grep: Unmatched ( or \\(\n", 2)
    return r, [("command_failure", r.last_line)]


@case(["command_failure"])
def cf_legacy_era() -> tuple[str, list]:
    return legacy_rollout(), [("command_failure", 8)]


@case(["command_failure", "timeout"])
def cf_timeout_and_denial_are_other_kinds() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-01T13:00:00")
    r.user("run the e2e suite")
    r.exec("npm run e2e", "command timed out after 120000 milliseconds\n", 124, seconds=120)
    timed_out = r.last_line
    r.deny("npm run e2e -- --no-sandbox")
    return r, [("timeout", timed_out)]


# ---------------------------------------------------------------------------------------------- denial
@case(["denial"])
def dn_same_command_twice() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-02T09:00:00")
    r.user("ship it: push the branch")
    r.deny("git push origin feature/pagination")
    first = r.last_line - 1  # the rejected-by-user function output
    r.assistant("The push was denied. Should I try again?")
    r.complete()
    r.user("ok try again")
    r.deny("git push origin feature/pagination")
    return r, [("denial", first), ("denial", r.last_line - 1)]


@case(["denial"])
def dn_two_programs() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-02T10:00:00")
    r.user("install the deps and fetch the schema")
    r.deny("npm install")
    npm = r.last_line - 1
    r.deny("curl -sSL https://api.example.com/schema.json -o schema.json")
    curl = r.last_line - 1
    return r, [("denial", npm), ("denial", curl)]


@case(["denial"])
def dn_denied_once_then_approved() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-02T11:00:00")
    r.user("install the deps")
    r.deny("npm install")
    denied = r.last_line - 1
    r.exec("npm install", "added 312 packages in 9s\n", 0, escalate=True)
    r.assistant("Installed.")
    r.complete()
    return r, [("denial", denied)]


@case(["denial"])
def dn_guardian_and_policy_refusals() -> tuple[Rollout, list]:
    """Refusals other than the user's "no" (texts from codex-rs guardian/review.rs, exec policy)."""
    r = Rollout(start="2026-10-02T12:00:00", era="B", cli_version="0.58.0")
    r.user("clean the build folders")
    cid = r.call_id()
    r.add(
        "response_item",
        {
            "type": "function_call",
            "name": "shell_command",
            "call_id": cid,
            "arguments": json.dumps({"command": "rm -rf build dist", "workdir": r.cwd}),
        },
    )
    r.add(
        "response_item",
        {
            "type": "function_call_output",
            "call_id": cid,
            "output": "This action was rejected due to unacceptable risk.\nReason: deletes files outside the "
            "workspace\nThe agent must stop and request user input.",
        },
    )
    guardian = r.last_line
    cid = r.call_id()
    r.add(
        "response_item",
        {
            "type": "function_call",
            "name": "shell_command",
            "call_id": cid,
            "arguments": json.dumps({"command": "git push --force", "workdir": r.cwd}),
        },
    )
    r.add(
        "response_item",
        {
            "type": "function_call_output",
            "call_id": cid,
            "output": "`/bin/bash -lc 'git push --force'` rejected: blocked by policy",
        },
    )
    return r, [("denial", guardian), ("denial", r.last_line)]


@case(["denial"])
def dn_rejection_words_inside_output_are_not_a_denial() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-02T13:00:00")
    r.user("why do my patches fail?")
    r.exec("rg -n 'rejected by user' logs/", "logs/codex.log:12: patch rejected by user\n", 0)
    r.exec("cat notes.md", "This action was rejected due to unacceptable risk (quoted from the docs)\n", 0)
    r.assistant("The logs show a rejected patch.")
    r.complete()
    return r, []


# ---------------------------------------------------------------------------------------------- approval_wait
@case(["approval_wait"])
def aw_escalated_call_waited_eight_minutes() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-02T14:00:00", era="B", cli_version="0.58.0")
    r.user("deploy the preview")
    cid = r.call_id()
    r.add(
        "response_item",
        {
            "type": "function_call",
            "name": "shell",
            "call_id": cid,
            "arguments": json.dumps(
                {
                    "command": ["bash", "-lc", "npm run deploy:preview"],
                    "workdir": r.cwd,
                    "with_escalated_permissions": True,
                    "justification": "needs network",
                }
            ),
        },
    )
    r.tick(480)
    r.add(
        "response_item",
        {
            "type": "function_call_output",
            "call_id": cid,
            "output": json.dumps({"output": "deployed\n", "metadata": {"exit_code": 0, "duration_seconds": 6.2}}),
        },
    )
    return r, [("approval_wait", r.last_line)]


@case(["approval_wait"])
def aw_long_command_is_not_a_wait() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-02T15:00:00", era="B", cli_version="0.58.0")
    r.user("run the full test suite")
    cid = r.call_id()
    r.add(
        "response_item",
        {
            "type": "function_call",
            "name": "shell",
            "call_id": cid,
            "arguments": json.dumps({"command": ["bash", "-lc", "pytest -q"], "workdir": r.cwd}),
        },
    )
    r.tick(600)
    r.add(
        "response_item",
        {
            "type": "function_call_output",
            "call_id": cid,
            "output": json.dumps(
                {"output": "812 passed in 598.1s\n", "metadata": {"exit_code": 0, "duration_seconds": 598.4}}
            ),
        },
    )
    return r, []


# ---------------------------------------------------------------------------------------------- expected_failure
@case(["expected_failure", "command_failure", "retry_loop"])
def ef_test_first_red_then_green() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-02T16:00:00")
    r.user("parse ISO week dates in the report filter")
    r.patch("tests/test_dates.py", ok=True)
    r.assistant("I added a test for ISO weeks; running it first to confirm it fails.", phase="commentary")
    r.exec("pytest -q tests/test_dates.py", "E   AssertionError: assert None == date(2026, 1, 5)\n1 failed", 1)
    red = r.last_line
    r.patch("src/dates.py", ok=True)
    r.exec("pytest -q tests/test_dates.py", "1 passed in 0.05s\n", 0)
    r.assistant("Done: the new test passes.")
    r.complete()
    return r, [("expected_failure", red)]


@case(["expected_failure", "command_failure"])
def ef_announced_but_never_green_is_friction() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-02T17:00:00")
    r.user("parse ISO week dates in the report filter")
    r.assistant("Let me run the test first to confirm it fails.", phase="commentary")
    r.exec("pytest -q tests/test_dates.py", "E   AssertionError: assert None == date(2026, 1, 5)\n1 failed", 1)
    return r, [("command_failure", r.last_line)]


# ---------------------------------------------------------------------------------------------- unverifiable
def _redacted(r: Rollout) -> None:
    r.add("event_msg", {"type": "user_message", "message": "[REDACTED_TEXT len=40 sha=1a2b3c4d]", "images": []})
    for _ in range(3):
        cid = r.call_id()
        r.add(
            "response_item",
            {
                "type": "function_call",
                "name": "mcp__docs__search",
                "call_id": cid,
                "arguments": "[REDACTED_ARGUMENTS len=20 sha=5e6f7a8b]",
            },
        )
        r.add(
            "response_item",
            {"type": "function_call_output", "call_id": cid, "output": "[REDACTED_OUTPUT len=400 sha=9c0d1e2f]"},
        )
    r.add(
        "response_item",
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "[REDACTED_TEXT len=90 sha=3a4b5c6d]"}],
        },
    )


@case(["unverifiable", "zero_denials", "fast_completion", "first_attempt_success", "positive_feedback"])
def uv_redacted_session_claims_no_delight() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-02T18:00:00", era="B", cli_version="0.58.0")
    _redacted(r)
    first = r.last_line - 7
    r.add("event_msg", {"type": "user_message", "message": "[REDACTED_TEXT len=12 sha=0a0b0c0d]", "images": []})
    return r, [("unverifiable", first)]


@case(["unverifiable"])
def uv_clean_session() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-02T19:00:00")
    r.user("list the files")
    r.exec("ls", "a.py\nb.py\n", 0)
    r.assistant("Two files.")
    r.complete()
    return r, []


# ---------------------------------------------------------------------------------------------- context_truncation
@case(["context_truncation"])
def ct_compaction() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-03T09:00:00")
    r.user("refactor the billing module")
    r.tokens(150_000, 2_000_000)
    r.compact("We split billing.py into invoices.py and payments.py; tests for payments still failing.")
    return r, [("context_truncation", r.last_line - 1)]


@case(["context_truncation"])
def ct_window_nearly_full() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-03T10:00:00")
    r.user("read the whole codebase and summarize it")
    r.tokens(120_000, 400_000)
    r.tokens(240_000, 900_000)  # 88% of 272k
    full = r.last_line
    r.tokens(250_000, 1_200_000)
    return r, [("context_truncation", full)]


@case(["context_truncation"])
def ct_truncated_tool_output() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-03T11:00:00")
    r.user("show me the logs")
    r.exec("cat logs/app.log", "Total output lines: 812\n[... omitted 700 of 812 lines ...]\nlast lines\n", 0)
    return r, [("context_truncation", r.last_line - 1)]


@case(["context_truncation"])
def ct_long_session_without_pressure() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-03T12:00:00")
    for i in range(8):
        r.user(f"step {i}: continue with the next endpoint")
        r.exec(f"pytest -q tests/test_step{i}.py", PYTEST_OK, 0)
        r.tokens(20_000 * (i + 1), 100_000 * (i + 1))  # up to 59% of the window
        r.assistant("Done with this step.")
        r.complete()
    return r, []


# ---------------------------------------------------------------------------------------------- patch_failure
@case(["patch_failure"])
def pa_context_mismatch_era_c() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-04T09:00:00")
    r.user("rename total to amount in invoices.py")
    r.patch("src/billing/invoices.py", ok=False, old="    total = sum(lines)")
    failed = r.last_line - 1  # patch_apply_end
    r.exec("sed -n '1,80p' src/billing/invoices.py", "def invoice_total(lines):\n    return sum(lines)\n", 0)
    r.patch(
        "src/billing/invoices.py", ok=True, old="    return sum(lines)", new="    return sum(l.amount for l in lines)"
    )
    return r, [("patch_failure", failed)]


@case(["patch_failure"])
def pa_era_b_text_output() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-04T10:00:00", era="B", cli_version="0.61.0")
    r.user("fix the typo in README")
    r.patch("README.md", ok=False, old="Instalation")
    return r, [("patch_failure", r.last_line)]


@case(["patch_failure"])
def pa_clean_patch() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-04T11:00:00")
    r.user("fix the typo in README")
    r.patch("README.md", ok=True, old="Instalation", new="Installation")
    return r, []


# ---------------------------------------------------------------------------------------------- timeout
@case(["timeout"])
def to_exit_124() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-05T09:00:00", era="B", cli_version="0.63.0")
    r.user("run the integration tests")
    r.exec("pytest tests/integration", "command timed out after 120000 milliseconds", 124, seconds=120.0)
    return r, [("timeout", r.last_line)]


@case(["timeout"])
def to_word_timeout_in_passing_output() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-05T10:00:00")
    r.user("check the timeout handling test")
    r.exec("pytest -k timeout", "tests/test_client.py::test_timeout_is_retried PASSED\n1 passed in 0.2s\n", 0)
    return r, []


# ---------------------------------------------------------------------------------------------- error
@case(["error"])
def er_error_event() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-06T09:00:00")
    r.user("continue")
    r.error("You've hit your usage limit. Upgrade to Pro or try again in 2 hours.", "usage_limit_exceeded")
    return r, [("error", r.last_line)]


@case(["error"])
def er_stream_error_burst_is_one_signal() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-06T10:00:00")
    r.user("continue")
    r.stream_error("Reconnecting... 1/5")
    first = r.last_line
    r.stream_error("Reconnecting... 2/5")
    r.stream_error("Reconnecting... 3/5")
    r.assistant("Done.")
    r.complete()
    return r, [("error", first)]


@case(["error"])
def er_warning_is_not_an_error() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-06T11:00:00")
    r.user("continue")
    r.add("event_msg", {"type": "warning", "message": "Heads up: the repository is large."})
    r.assistant("Done.")
    r.complete()
    return r, []


# ---------------------------------------------------------------------------------------------- interrupt
@case(["interrupt"])
def in_interrupted_during_command() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-07T09:00:00")
    r.user("run the full test suite")
    cid = r.call_id()
    r.add(
        "response_item",
        {
            "type": "function_call",
            "name": "exec_command",
            "call_id": cid,
            "arguments": json.dumps({"cmd": "npm test", "workdir": r.cwd}),
        },
    )
    r.tick(40)
    r.abort("interrupted")
    return r, [("interrupt", r.last_line)]


@case(["interrupt"])
def in_replaced_by_new_prompt() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-07T10:00:00")
    r.user("refactor the parser")
    r.abort("replaced")
    aborted = r.last_line
    r.user("actually, just add a docstring")
    return r, [("interrupt", aborted)]


@case(["interrupt"])
def in_review_ended_is_not_an_interrupt() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-07T11:00:00")
    r.user("/review")
    r.abort("review_ended")
    return r, []


# ---------------------------------------------------------------------------------------------- user_pushback
def _worked(r: Rollout, prompt: str) -> None:
    r.user(prompt)
    r.patch("src/api/users.py", ok=True)
    r.assistant("I updated the endpoint.")
    r.complete()


@case(["user_pushback"])
def pb_thats_wrong() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-08T09:00:00")
    _worked(r, "make the users endpoint return 404 for unknown ids")
    r.user("no, that's wrong - the endpoint must stay backwards compatible")
    return r, [("user_pushback", r.last_line)]


@case(["user_pushback"])
def pb_still_failing() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-08T10:00:00")
    _worked(r, "fix the flaky websocket test")
    r.user("still failing on CI, same error")
    return r, [("user_pushback", r.last_line)]


@case(["user_pushback"])
def pb_revert() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-08T11:00:00")
    _worked(r, "clean up the settings module")
    r.user("revert that, I liked the old structure")
    return r, [("user_pushback", r.last_line)]


@case(["user_pushback"])
def pb_dont_touch() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-08T12:00:00")
    _worked(r, "add a created_at column")
    r.user("don't touch the migrations folder, generate a new one instead")
    return r, [("user_pushback", r.last_line)]


@case(["user_pushback"])
def pb_near_misses() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-08T13:00:00")
    _worked(r, "don't use jquery; add a date picker to the form")  # first prompt: an instruction
    r.user("no problem, thanks! now add the same to the edit form")
    r.patch("src/forms/edit.tsx", ok=True)
    r.assistant("Added.")
    r.complete()
    r.user("don't worry about the docs for now")
    r.assistant("Should I also add it to the admin form?")
    r.complete()
    r.user("no, just the two forms")
    return r, []


@case(["user_pushback"])
def pb_correction_after_a_commit() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-08T14:00:00")
    r.user("tidy the imports in app.py")
    r.patch("app.py", ok=True)
    r.exec("git commit -am 'tidy imports'", "[main 1a2b3c4] tidy imports\n 1 file changed\n", 0)
    r.assistant("Done and committed.")
    r.complete()
    r.user("I didn't ask you to commit anything")
    return r, [("user_pushback", r.last_line)]


@case(["user_pushback"])
def pb_pasted_error_and_repeat() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-08T15:00:00")
    _worked(r, "the users page crashes when the list is empty, please fix it")
    r.user("TypeError: Cannot read properties of undefined (reading 'map')\n    at UserList (UserList.tsx:14:22)")
    pasted = r.last_line
    r.patch("src/UserList.tsx", ok=True)
    r.assistant("Fixed: the list now handles a missing users array.")
    r.complete()
    r.user("the users page crashes when the list is empty, please fix it")
    return r, [("user_pushback", pasted), ("user_pushback", r.last_line)]


# ---------------------------------------------------------------------------------------------- retry_loop
@case(["retry_loop"])
def rl_same_failure_three_times() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-09T09:00:00")
    r.user("make the tests pass")
    r.exec("pytest -q", PYTEST_MISSING, 2)
    first = r.last_line
    r.exec("python -m pytest -q tests/test_invoices.py", PYTEST_MISSING, 2)
    r.exec("pytest -q -x", PYTEST_MISSING, 2)
    return r, [("retry_loop", first)]


@case(["retry_loop"])
def rl_twice_is_not_a_loop() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-09T10:00:00")
    r.user("make the tests pass")
    r.exec("pytest -q", PYTEST_MISSING, 2)
    r.exec("pytest -q", PYTEST_MISSING, 2)
    r.exec("uv sync", "Installed 4 packages\n", 0)
    r.exec("pytest -q", PYTEST_OK, 0)
    return r, []


@case(["retry_loop"])
def rl_same_command_different_errors() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-09T11:00:00")
    r.user("fix the build")
    r.exec("cargo build", "error[E0433]: failed to resolve: use of undeclared crate or module `serde_json`\n", 101)
    first = r.last_line
    r.exec("cargo build", "error[E0308]: mismatched types\n  --> src/main.rs:12:5\n", 101)
    r.exec("cargo build", "error[E0599]: no method named `unwrap_or_default` found\n", 101)
    return r, [("retry_loop", first)]


# ---------------------------------------------------------------------------------------------- delight
@case(["fast_completion"])
def fc_one_prompt() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-10T09:00:00")
    r.user("add a --version flag to the CLI")
    r.patch("src/cli.py", ok=True)
    r.exec("pytest -q tests/test_cli.py", PYTEST_OK, 0)
    r.assistant("Added --version; tests pass.")
    r.complete()
    return r, [("fast_completion", r.last_line)]


@case(["fast_completion"])
def fc_four_prompts() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-10T10:00:00")
    for i in range(4):
        r.user(f"small change {i}")
        r.assistant("Done.")
        r.complete()
    return r, []


@case(["fast_completion"])
def fc_with_friction() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-10T11:00:00")
    r.user("add a --version flag")
    r.exec("pytest -q", PYTEST_MISSING, 2)
    r.assistant("Done, but tests could not run.")
    r.complete()
    return r, []


@case(["fast_completion"])
def fc_interrupted() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-10T12:00:00")
    r.user("add a --version flag")
    r.abort("interrupted")
    return r, []


@case(["zero_denials"])
def zd_calls_none_denied() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-11T09:00:00")
    r.user("install and test")
    r.exec("npm install", "added 12 packages\n", 0, escalate=True)
    r.exec("npm run lint", "0 problems\n", 0)
    r.exec("npm test", "Tests: 12 passed\n", 0)
    last = r.last_line
    r.assistant("All green.")
    r.complete()
    return r, [("zero_denials", last)]


@case(["zero_denials"])
def zd_nothing_could_be_denied() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-11T12:00:00", approval="never", originator="codex_exec", source="exec")
    r.user("run lint, tests and build")
    r.exec("npm run lint", "0 problems\n", 0)
    r.exec("npm test", "Tests: 12 passed\n", 0)
    r.exec("npm run build", "built in 2.1s\n", 0)
    return r, []


@case(["zero_denials"])
def zd_too_few_calls() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-11T13:00:00")
    r.user("what's in the readme?")
    r.exec("cat README.md", "# billing-api\n", 0)
    r.assistant("It describes the billing API.")
    r.complete()
    return r, []


@case(["zero_denials"])
def zd_one_denial() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-11T10:00:00")
    r.user("install and test")
    r.deny("npm install")
    r.exec("npm test", "Tests: 12 passed\n", 0)
    return r, []


@case(["zero_denials"])
def zd_no_tool_calls() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-11T11:00:00")
    r.user("what does idempotent mean?")
    r.assistant("An operation is idempotent when repeating it has no further effect.")
    r.complete()
    return r, []


@case(["first_attempt_success"])
def fa_first_test_run_passes() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-12T09:00:00")
    r.user("check the tests")
    r.exec("ls", "src tests\n", 0)
    r.exec("pytest -q", PYTEST_OK, 0)
    return r, [("first_attempt_success", r.last_line)]


@case(["first_attempt_success"])
def fa_first_run_fails() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-12T10:00:00")
    r.user("check the tests")
    r.exec("pytest -q", PYTEST_MISSING, 2)
    r.exec("pytest -q", PYTEST_OK, 0)
    return r, []


@case(["first_attempt_success"])
def fa_one_per_session() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-12T12:00:00")
    r.user("fix the typo and run the tests")
    r.patch("docs/index.md", ok=True)
    r.exec("pytest -q", PYTEST_OK, 0)
    return r, [("first_attempt_success", r.last_line)]  # the verification run, not also the patch


@case(["first_attempt_success"])
def fa_first_patch_applies() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-12T11:00:00")
    r.user("fix the typo")
    r.patch("docs/index.md", ok=True)
    return r, [("first_attempt_success", r.last_line - 1)]


@case(["positive_feedback"])
def pf_thanks_works() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-13T09:00:00")
    _worked(r, "add rate limiting to the login endpoint")
    r.user("thanks, works perfectly 👍")
    return r, [("positive_feedback", r.last_line)]


@case(["positive_feedback"])
def pf_no_thanks() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-13T10:00:00")
    _worked(r, "add rate limiting to the login endpoint")
    r.user("no thanks, I'll write the docs myself")
    return r, []


@case(["positive_feedback", "user_pushback"])
def pf_thanks_but_still_failing() -> tuple[Rollout, list]:
    r = Rollout(start="2026-10-13T11:00:00")
    _worked(r, "fix the date parsing")
    r.user("thanks, but it's still failing for ISO weeks")
    return r, [("user_pushback", r.last_line)]


def main() -> None:
    cases_dir = HERE / "cases"
    cases_dir.mkdir(exist_ok=True)
    for old in cases_dir.glob("*.jsonl"):
        old.unlink()
    labels = {}
    for name, build in sorted(CASES.items()):
        text, expected, focus = build()
        (cases_dir / f"{name}.jsonl").write_text(text, encoding="utf-8")
        labels[name] = {"focus": focus, "expected": [{"kind": k, "line": line} for k, line in expected]}
    (HERE / "labels.json").write_text(json.dumps(labels, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(labels)} gold cases to {cases_dir}")


if __name__ == "__main__":
    main()
