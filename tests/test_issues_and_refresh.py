"""Grouping into issues, the impact formula, persistence, and incremental re-detection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccl_tui.cli import main
from ccl_tui.config.settings import ImpactWeights
from ccl_tui.issues.build import SessionInfo, build_issues, cost_units, issue_id
from ccl_tui.model.events import EventKind
from ccl_tui.model.signals import Cost, Signal
from ccl_tui.pipeline import ranked_issues, refresh, scope_from
from ccl_tui.store.db import Store
from ccl_tui.store.ingest import ingest
from tests.builders import Rollout
from tests.gold.make_gold import PYTEST_MISSING, PYTEST_OK


def sig(
    session: str,
    kind: str = "command_failure",
    signature: str = "pytest | ModuleNotFoundError: httpx",
    severity: float = 0.6,
    ts: str = "2026-10-01T10:00:00.000Z",
    cost: Cost | None = None,
) -> Signal:
    return Signal(
        kind=kind,
        session_id=session,
        evidence=[3, 2],
        turn=1,
        severity=severity,
        signature=signature,
        detail="d",
        timestamp=ts,
        cost=cost or Cost(turns=1, seconds=120, tokens=200_000, resolved=True),
    )


def infos(*ids: str, origin: str = "interactive") -> dict[str, SessionInfo]:
    return {i: SessionInfo("billing-api", origin, "2026-10-01T09:00:00Z") for i in ids}


def test_impact_formula_is_the_product_of_its_factors() -> None:
    w = ImpactWeights()
    signals = [sig("a"), sig("b", severity=0.4), sig("b", kind="retry_loop", severity=0.7)]
    [issue] = build_issues(signals, infos("a", "b"), w, now="2026-10-15T10:00:00Z")
    imp = issue.impact
    assert imp.sessions == 2
    assert imp.severity == pytest.approx((0.6 + 0.7) / 2)  # worst per session, averaged
    unit = 1 + 1 * w.cost_per_turn + 2 * w.cost_per_minute + 0.2 * w.cost_per_million_tokens
    assert imp.cost == pytest.approx(unit)
    assert imp.recency == pytest.approx(0.5 ** (14 / 14))
    assert imp.impact == pytest.approx(imp.sessions * imp.severity * imp.cost * imp.recency, abs=0.006)
    assert imp.formula() == f"2 sessions x 0.65 severity x {imp.cost:.2f} cost x 0.50 recency = {imp.impact:.1f}"
    assert issue.kind == "command_failure"  # a retry loop folds into the failure it repeats
    assert issue.occurrences == 2 and issue.kinds == {"command_failure": 2, "retry_loop": 1}
    assert issue.title == "pytest fails: ModuleNotFoundError: httpx"


def test_unresolved_costs_more_and_recency_has_a_floor() -> None:
    w = ImpactWeights()
    resolved = cost_units(sig("a"), w)
    unresolved = cost_units(sig("a", cost=Cost(turns=1, seconds=120, tokens=200_000, resolved=False)), w)
    assert unresolved == pytest.approx(resolved + w.unresolved_penalty)
    [old] = build_issues([sig("a", ts="2026-01-01T00:00:00Z")], infos("a"), w, now="2026-11-01T00:00:00Z")
    assert old.impact.recency == w.recency_floor


def test_ranking_order_and_stable_ids() -> None:
    signals = [sig("a"), sig("b"), sig("c"), sig("a", signature="npm ci | npm ERR! EAI_AGAIN", severity=0.9)]
    issues = build_issues(signals, infos("a", "b", "c"), now="2026-10-01T10:00:00Z")
    assert [i.rank for i in issues] == [1, 2]
    assert issues[0].signature == "pytest | ModuleNotFoundError: httpx"
    assert (
        issues[0].id
        == issue_id("pytest | ModuleNotFoundError: httpx")
        == "I-" + __import__("hashlib").sha1(b"pytest | ModuleNotFoundError: httpx").hexdigest()[:10]
    )
    again = build_issues(list(reversed(signals)), infos("a", "b", "c"), now="2026-10-01T10:00:00Z")
    assert [(i.id, i.impact.impact) for i in again] == [(i.id, i.impact.impact) for i in issues]


def test_delight_never_becomes_an_issue() -> None:
    assert build_issues([sig("a", kind="positive_feedback", signature="delight | positive feedback")], infos("a")) == []


async def _corpus(tmp_path: Path) -> Path:
    root = tmp_path / "home"
    for i in range(3):
        r = Rollout(start=f"2026-10-0{i + 1}T09:00:00", cwd=f"/home/dev/src/repo{i}")
        r.user("make the tests pass")
        r.exec("pytest -q", PYTEST_MISSING, 2)
        r.exec("uv sync", "ok", 0)
        r.exec("pytest -q", PYTEST_OK, 0)
        r.assistant("Fixed.")
        r.complete()
        r.write(root)
    exec_run = Rollout(start="2026-10-04T09:00:00", originator="codex_exec", source="exec")
    exec_run.user("ci: run tests")
    exec_run.exec("pytest -q", PYTEST_MISSING, 2)
    exec_run.write(root)
    return root


async def test_refresh_is_incremental_and_scoped(store: Store, tmp_path: Path) -> None:
    root = await _corpus(tmp_path)
    await ingest(store, [root])
    first = await refresh(store)
    assert first.sessions_detected == 4 and first.issues >= 1
    again = await refresh(store)
    assert again.sessions_detected == 0  # nothing changed: nothing recomputed
    issues = await ranked_issues(store)
    top = issues[0]
    assert top.signature == "pytest | ModuleNotFoundError: httpx"
    assert top.impact.sessions == 3  # the exec run is not mixed into user friction
    everything = await ranked_issues(store, scope_from("all"))
    assert next(i for i in everything if i.id == top.id).impact.sessions == 4
    only_exec = await ranked_issues(store, scope_from("exec"))
    assert [i.impact.sessions for i in only_exec if i.id == top.id] == [1]
    # One session grows: only it is re-detected.
    path = sorted(root.rglob("rollout-*.jsonl"))[0]
    with path.open("a") as f:
        f.write(
            json.dumps(
                {
                    "timestamp": "2026-10-01T10:00:00.000Z",
                    "type": "event_msg",
                    "payload": {"type": "user_message", "message": "still failing", "images": []},
                }
            )
            + "\n"
        )
    await ingest(store, [root])
    third = await refresh(store)
    assert third.sessions_detected == 1


async def test_sample_evidence_points_at_real_events_of_the_right_type(store: Store, samples: Path) -> None:
    await ingest(store, [samples])
    await refresh(store)
    expected_kinds = {
        "command_failure": {EventKind.TOOL_OUTPUT},
        "timeout": {EventKind.TOOL_OUTPUT},
        "patch_failure": {EventKind.PATCH_APPLY},
        "denial": {EventKind.DENIAL},
        "approval_wait": {EventKind.TOOL_OUTPUT, EventKind.PATCH_APPLY, EventKind.DENIAL},
        "expected_failure": {EventKind.TOOL_OUTPUT},
        "unverifiable": {
            EventKind.USER_MESSAGE,
            EventKind.ASSISTANT_MESSAGE,
            EventKind.TOOL_OUTPUT,
            EventKind.PATCH_APPLY,
        },
        "context_truncation": {EventKind.COMPACTION, EventKind.TOKEN_COUNT, EventKind.TOOL_OUTPUT, EventKind.ERROR},
        "error": {EventKind.ERROR, EventKind.STREAM_ERROR, EventKind.TOOL_OUTPUT},
        "interrupt": {EventKind.TURN_ABORTED, EventKind.TOOL_CALL},
        "user_pushback": {EventKind.USER_MESSAGE},
        "positive_feedback": {EventKind.USER_MESSAGE},
        "retry_loop": {EventKind.TOOL_OUTPUT, EventKind.PATCH_APPLY},
        "fast_completion": {EventKind.TURN_COMPLETED, EventKind.ASSISTANT_MESSAGE},
        "zero_denials": {EventKind.TOOL_OUTPUT, EventKind.PATCH_APPLY, EventKind.TOOL_CALL},
        "first_attempt_success": {EventKind.TOOL_OUTPUT, EventKind.PATCH_APPLY},
    }
    signals = await store.signals()
    assert len(signals) >= 5
    for s in signals:
        events = {e.seq: e for e in await store.events(s.session_id)}
        for seq in s.evidence:
            assert seq in events, (s.kind, seq)
        assert events[s.seq].kind in expected_kinds[s.kind], (s.kind, events[s.seq].kind)
        if s.call_id:
            assert events[s.seq].call_id == s.call_id


def test_report_and_signals_cli_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    root = asyncio.run(_corpus(tmp_path))
    db = str(tmp_path / "c.sqlite")
    assert main(["ingest", "--db", db, "--json", str(root)]) == 0
    ingest_out = json.loads(capsys.readouterr().out)
    assert ingest_out["detection"]["sessions_detected"] == 4
    assert main(["report", "--db", db, "--json", "--top", "5"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["counts"] == {"sessions": 4, "sessions_in_scope": 3, "excluded_by_origin": 1}
    top = rep["issues"][0]
    assert set(top) >= {"rank", "id", "title", "kind", "signature", "impact", "evidence", "repos", "sessions"}
    assert top["impact"]["formula"].endswith(f"= {top['impact']['impact']:.1f}")
    ev = top["evidence"][0]
    assert set(ev) >= {"session_id", "seq", "call_id", "detail"}
    assert main(["report", "--db", db, "--markdown"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("# ccl-tui report") and top["id"] in md
    assert main(["signals", "--db", db, "--json", "--polarity", "friction"]) == 0
    sigs = json.loads(capsys.readouterr().out)
    assert sigs and all(s["polarity"] == "friction" for s in sigs)
    assert {"kind", "session_id", "seq", "evidence", "call_id", "severity", "signature", "cost"} <= set(sigs[0])
    assert main(["report", "--db", db, "--kind", "user_pushback", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["issues"] == []
