"""Which check verifies a task, which state it starts from, what the agent is asked and what solves it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccl_tui.model.issues import Evidence, Impact, Issue
from ccl_tui.store.db import Store
from ccl_tui.tasks.api import find_issue, plan_for_issue, plan_for_signal
from ccl_tui.tasks.model import FIX, KEEP_GREEN, TaskError
from tests.builders import Rollout
from tests.tasks_helpers import populated


async def _signal_seq(store: Store, sid: str, kind: str) -> int:
    sigs = await store.signals(sid, kinds=[kind])
    assert sigs, f"no {kind} signal"
    return sigs[0].seq


async def test_failed_check_with_earlier_edits_and_a_later_fix(tmp_path: Path, store: Store) -> None:
    r = Rollout(start="2026-10-01T09:00:00")
    r.user("add a discount field")
    r.patch("src/models.py", old="a", new="b")
    r.exec("pytest -q tests/test_models.py", "E   AssertionError\n1 failed", 1)
    r.patch("src/models.py", old="b", new="c")
    r.patch("src/api.py", old="x", new="y")
    r.exec("ls src", "models.py", 0)
    r.exec("pytest -q tests/test_models.py", "3 passed", 0)
    r.patch("README.md", old="old", new="new")  # after the success: not part of the solution
    r.complete()
    r.write(tmp_path)
    await populated(store, tmp_path)
    seq = await _signal_seq(store, r.id, "command_failure")
    _sig, plan = await plan_for_signal(store, r.id, seq)
    assert plan.flavour == FIX and plan.verifier_strategy == "failed-check"
    assert plan.verifier.command == "pytest -q tests/test_models.py" and plan.verifier.exit_code == 1
    assert len(plan.setup_patches) == 1 and len(plan.solution_patches) == 2
    assert plan.success is not None and plan.success.ok is True
    assert plan.prompts == [("The user asked", "add a discount field")]
    assert "exited 1" in plan.verifier_reason and "2 edit(s)" in plan.solution_reason


async def test_failing_setup_command_that_later_succeeds(tmp_path: Path, store: Store) -> None:
    r = Rollout(start="2026-10-02T09:00:00")
    r.user("install deps and build")
    r.exec("npm install", "npm ERR! code EAI_AGAIN", 1)
    r.exec("npm install", "added 120 packages", 0)
    r.complete()
    r.write(tmp_path)
    await populated(store, tmp_path)
    _sig, plan = await plan_for_signal(store, r.id, await _signal_seq(store, r.id, "command_failure"))
    assert plan.verifier_strategy == "failed-check" and plan.verifier.command == "npm install"
    assert "re-ran this command successfully later" in plan.verifier_reason
    assert plan.solution_patches == [] and "without file edits" in plan.solution_reason


async def test_read_only_failure_uses_the_later_success_check(tmp_path: Path, store: Store) -> None:
    r = Rollout(start="2026-10-03T09:00:00")
    r.user("find the handler and fix the test")
    r.exec("cat src/missing.py", "cat: src/missing.py: No such file or directory", 1)
    r.exec("cat src/missing.py", "x = 1", 0)
    r.patch("src/handler.py", old="a", new="b")
    r.exec("go test ./...", "ok", 0)
    r.complete()
    r.write(tmp_path)
    await populated(store, tmp_path)
    _sig, plan = await plan_for_signal(store, r.id, await _signal_seq(store, r.id, "command_failure"))
    assert plan.verifier_strategy == "later-success-check" and plan.verifier.command == "go test ./..."
    assert plan.failure is None and len(plan.solution_patches) == 1


async def test_pushback_reruns_the_previous_turns_failed_check(tmp_path: Path, store: Store) -> None:
    r = Rollout(start="2026-10-04T09:00:00")
    r.user("make the webhook tests pass")
    r.exec("pytest -q tests/test_webhooks.py", "1 failed", 1)
    r.assistant("Done, the tests should pass now.")
    r.complete()
    r.user("still failing for me, same error")
    r.assistant("Looking again.")
    r.complete()
    r.write(tmp_path)
    await populated(store, tmp_path)
    seq = await _signal_seq(store, r.id, "user_pushback")
    _sig, plan = await plan_for_signal(store, r.id, seq, "user_pushback")
    assert plan.verifier_strategy == "failed-check-in-turn"
    assert plan.verifier.command == "pytest -q tests/test_webhooks.py"
    assert plan.prompts == [
        ("The user asked", "make the webhook tests pass"),
        ("Then the user said", "still failing for me, same error"),
    ]
    assert plan.success is None and plan.solution_reason == "the session never got past the failure"


async def test_delight_becomes_keep_green(tmp_path: Path, store: Store) -> None:
    r = Rollout(start="2026-10-05T09:00:00")
    r.user("rename the helper")
    r.patch("src/util.py", old="def helper", new="def format_money")
    r.exec("pytest -q", "12 passed", 0)
    r.assistant("Renamed; all tests pass.")
    r.complete()
    r.write(tmp_path)
    await populated(store, tmp_path)
    delight = [s for s in await store.signals(r.id) if s.polarity == "delight"]
    assert delight
    _sig, plan = await plan_for_signal(store, r.id, delight[0].seq, delight[0].kind)
    assert plan.flavour == KEEP_GREEN and plan.verifier_strategy == "last-success-check"
    assert plan.verifier.command == "pytest -q" and len(plan.solution_patches) == 1 and not plan.setup_patches


async def test_nothing_to_verify_is_an_error(tmp_path: Path, store: Store) -> None:
    r = Rollout(start="2026-10-06T09:00:00")
    r.user("what does this repo do?")
    r.exec("git push origin main", "fatal: unable to access: Could not resolve host", 128)
    r.complete()
    r.write(tmp_path)
    await populated(store, tmp_path)
    with pytest.raises(TaskError, match="records no check"):
        await plan_for_signal(store, r.id, await _signal_seq(store, r.id, "command_failure"))
    with pytest.raises(TaskError, match="no signal at event"):
        await plan_for_signal(store, r.id, 0)


async def test_issue_falls_back_to_another_evidence_session(tmp_path: Path, store: Store) -> None:
    a = Rollout(start="2026-10-07T09:00:00", cwd="/w/a")
    a.user("push it")
    a.exec("git push", "fatal: unable to access", 128)
    a.complete()
    b = Rollout(start="2026-10-08T09:00:00", cwd="/w/b")
    b.user("push and test")
    b.exec("git push", "fatal: unable to access", 128)
    b.exec("cargo test", "test result: ok", 0)
    b.complete()
    for r in (a, b):
        r.write(tmp_path)
    await populated(store, tmp_path)
    ev = [Evidence(r.id, await _signal_seq(store, r.id, "command_failure"), "command_failure", "x") for r in (a, b)]
    issue = Issue(
        id="I-0000000001",
        signature="git push | network",
        kind="command_failure",
        title="git push fails",
        impact=Impact(2, 0.5, 1.0, 1.0, 1.0),
        occurrences=2,
        first_seen=None,
        last_seen=None,
        session_ids=[a.id, b.id],
        representative=ev[0],
        evidence=ev,
    )
    plan = await plan_for_issue(store, issue)
    assert plan.session_id == b.id and plan.verifier.command == "cargo test"
    assert any("representative session had nothing to verify" in n for n in plan.notes)
    issue.evidence = issue.evidence[:1]
    with pytest.raises(TaskError, match="no session of this issue"):
        await plan_for_issue(store, issue)


def test_find_issue_by_id_prefix_and_rank() -> None:
    def mk(i: str, rank: int) -> Issue:
        return Issue(
            id=i,
            signature=i,
            kind="k",
            title=i,
            impact=Impact(1, 1, 1, 1, 1),
            occurrences=1,
            first_seen=None,
            last_seen=None,
            rank=rank,
        )

    issues = [mk("I-aaaa000001", 1), mk("I-aaaa000002", 2), mk("I-bbbb000003", 3)]
    assert find_issue(issues, "I-bbbb000003").rank == 3
    assert find_issue(issues, "bbbb").rank == 3 and find_issue(issues, "i-BBBB").rank == 3
    assert find_issue(issues, "2").id == "I-aaaa000002"
    with pytest.raises(TaskError, match="ambiguous"):
        find_issue(issues, "aaaa")
    with pytest.raises(TaskError, match="no issue"):
        find_issue(issues, "zzz")


async def test_later_success_prefers_the_same_command(tmp_path: Path, store: Store) -> None:
    r = Rollout(start="2026-10-09T09:00:00")
    r.user("fix test_a")
    r.exec("pytest -q tests/test_a.py", "1 failed", 1)
    r.exec("pytest -q tests/test_b.py", "1 passed", 0)  # another test passing proves nothing about test_a
    r.patch("src/a.py", old="a", new="b")
    r.exec("pytest -q tests/test_a.py", "1 passed", 0)
    r.complete()
    r.write(tmp_path)
    await populated(store, tmp_path)
    _sig, plan = await plan_for_signal(store, r.id, await _signal_seq(store, r.id, "command_failure"))
    assert plan.success is not None and plan.success.command == "pytest -q tests/test_a.py"
    assert len(plan.solution_patches) == 1
