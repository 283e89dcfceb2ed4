"""Closing the loop: Harbor job folders -> runs and trials matched to issues -> pass rates with intervals;
fix marks -> recurrence before/after in the sessions themselves."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
import pytest_asyncio

from ccl_tui.demo.harbor_runs import FOLDER as DEMO_JOBS
from ccl_tui.demo.harbor_runs import TASKS as DEMO_TASKS
from ccl_tui.demo.harbor_runs import is_simulated_job
from ccl_tui.demo.plan import FIX_DATE
from ccl_tui.model.results import Trial
from ccl_tui.pipeline import ranked_issues, scope_from
from ccl_tui.results import matching
from ccl_tui.results.api import JobImportError, NotAJob, import_jobs, improvement, mark_fix, runs
from ccl_tui.results.harbor_job import find_jobs, parse_trial, read_job
from ccl_tui.results.recurrence import recurrence
from ccl_tui.results.stats import newcombe, standardized_difference, wilson
from ccl_tui.store.db import Store
from tests.conftest import require_harbor
from tests.tui_support import DEMO, copy_db

JOBS = Path(__file__).parent / "fixtures" / "harbor_jobs"
BASELINE = JOBS / "2026-11-02__09-00-00"
AFTER = JOBS / "2026-11-20__09-00-00"
FIXED = "pytest | ModuleNotFoundError: httpx"


# ------------------------------------------------------------------------------------------------ statistics
def test_wilson_matches_published_values() -> None:
    # Newcombe (1998), table I: 81/263 -> 0.2553-0.3662; 0/10 -> 0-0.2775; 1/29 -> 0.0061-0.1718
    for (k, n), (lo, hi) in {
        (81, 263): (0.2553, 0.3662),
        (0, 10): (0.0, 0.2775),
        (1, 29): (0.0061, 0.1718),
    }.items():
        got = wilson(k, n)
        assert got == pytest.approx((lo, hi), abs=1e-4), (k, n, got)
    assert wilson(0, 0) == (0.0, 1.0)


def test_newcombe_difference_matches_published_values() -> None:
    # Newcombe (1998), table II example (a): 56/70 vs 48/80 -> difference 0.2000, 95% CI 0.0524 to 0.3339
    lo, hi = newcombe(48, 80, 56, 70)
    assert (lo, hi) == pytest.approx((0.0524, 0.3339), abs=1e-4)
    # (f): 0/10 vs 0/20 -> -0.1611 to 0.2775 (rate_b - rate_a with a = 0/20, b = 0/10)
    assert newcombe(0, 20, 0, 10) == pytest.approx((-0.1611, 0.2775), abs=1e-4)


def test_standardizing_removes_a_shift_in_the_origin_mix() -> None:
    # Interactive sessions hit 50%, IDE sessions 10%, on both sides; only the mix changes (mostly IDE after).
    strata = [(40, 80, 10, 20), (2, 20, 8, 80)]
    crude_before, crude_after = 42 / 100, 18 / 100
    before, after, diff, lo, hi = standardized_difference(strata)
    assert crude_before - crude_after > 0.2  # the crude rates would claim a big drop
    assert diff == pytest.approx(0.0, abs=1e-9) and lo < 0 < hi
    assert before == pytest.approx(after)


# ------------------------------------------------------------------------------------------------ job folders
def test_fixtures_load_with_harbors_own_models() -> None:
    require_harbor()
    from harbor.models.job.result import JobResult
    from harbor.models.trial.result import TrialResult

    good = bad = 0
    for job in (BASELINE, AFTER):
        JobResult.model_validate_json((job / "result.json").read_text())
        for path in sorted(job.glob("*/result.json")):
            try:
                TrialResult.model_validate_json(path.read_text())
                good += 1
            except ValueError:
                assert path.parent.name.endswith(("__halfwri", "__unknown")), path
                bad += 1
    assert (good, bad) == (11, 2)


def test_demo_jobs_load_with_harbors_own_models() -> None:
    require_harbor()
    from harbor.models.job.result import JobResult
    from harbor.models.trial.result import TrialResult

    jobs = sorted(p for p in (DEMO / DEMO_JOBS).iterdir() if p.is_dir())
    simulated = [job for job in jobs if is_simulated_job(job)]
    assert len(simulated) == 2
    for job in simulated:  # marked in their files, not only by name
        assert (job / "SIMULATED.md").is_file()
        assert orjson.loads((job / "config.json").read_bytes())["ccl_tui"]["simulated"] is True
    for job in jobs:  # real harbor run folders (scripts/demo_harbor_runs.py), when present, load too
        JobResult.model_validate_json((job / "result.json").read_text())
        for p in job.glob("*/result.json"):
            TrialResult.model_validate_json(p.read_text())
    errors = 0
    for job in simulated:
        JobResult.model_validate_json((job / "result.json").read_text())
        trials = [TrialResult.model_validate_json(p.read_text()) for p in job.glob("*/result.json")]
        assert len(trials) == 10 * len(DEMO_TASKS)
        errors += sum(t.exception_info is not None for t in trials)
    assert errors > 0


def test_read_job_reports_broken_and_running_trials() -> None:
    job = read_job(AFTER)
    assert len(job.trials) == 5 and job.pending == 1
    reasons = sorted(s.reason for s in job.skipped)
    assert len(reasons) == 2
    assert reasons[0].startswith("half-written or invalid JSON")
    assert reasons[1].startswith("unrecognized result format")
    assert job.job_id and job.started_at and job.started_at.startswith("2026-11-20")
    base = read_job(BASELINE)
    by_exc = {t.exception_type for t in base.trials}
    assert by_exc == {None, "AgentTimeoutError", "SandboxBuildFailedError"}
    timeout = next(t for t in base.trials if t.exception_type == "AgentTimeoutError")
    sandbox = next(t for t in base.trials if t.exception_type == "SandboxBuildFailedError")
    assert timeout.graded and not timeout.passed  # the agent's own failure counts
    assert not sandbox.graded  # an infrastructure failure says nothing about the agent
    assert {t.model for t in base.trials} == {"openai/gpt-5"}


def test_find_jobs_takes_a_job_or_a_folder_of_jobs(tmp_path: Path) -> None:
    assert find_jobs(AFTER) == [AFTER]
    assert find_jobs(JOBS) == [BASELINE, AFTER]
    with pytest.raises(NotAJob, match="no such folder"):
        find_jobs(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotAJob, match="not a Harbor job folder"):
        find_jobs(tmp_path / "empty")


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ([1, 2], "not a JSON object"),
        ({"trial_results": [], "n_total_trials": 0}, "a job result"),
        (
            {"task_name": "t", "trial_name": "x", "agent_info": {}, "verifier_result": {"rewards": {"reward": "yes"}}},
            "not a number",
        ),
    ],
)
def test_parse_trial_rejects_unknown_shapes(doc: object, reason: str) -> None:
    trial, why = parse_trial(doc)
    assert trial is None and why is not None and reason in why


def test_parse_trial_takes_the_reward_key_or_the_mean_and_strips_control_codes() -> None:
    base = {"task_name": "t\x1b[31mred", "trial_name": "x", "agent_info": {"name": "codex", "version": "1"}}
    t, _ = parse_trial({**base, "verifier_result": {"rewards": {"reward": 0.5, "style": 1}}})
    assert t is not None and t.reward == 0.5 and "\x1b" not in t.task_name
    t, _ = parse_trial({**base, "verifier_result": {"rewards": {"a": 1, "b": 0}}})
    assert t is not None and t.reward == 0.5 and not t.passed
    t, _ = parse_trial({**base, "verifier_result": None})
    assert t is not None and t.reward is None and not t.graded


# ------------------------------------------------------------------------------------------------ matching
def test_match_by_name_and_by_task_metadata(tmp_path: Path) -> None:
    assert matching.from_name("ccl-i-e4f762bc7a-pytest-fails") == matching.Match(issue_id="I-e4f762bc7a", how="name")
    assert matching.from_name("acme/ccl-i-e4f762bc7a") is not None
    m = matching.from_name("ccl-signal-0199a1b2-3c4d-240-command-failure")
    assert m is not None and (m.session_id, m.seq, m.how) == ("0199a1b2-3c4d", 240, "signal")
    assert matching.from_name("hello-world") is None
    # a renamed task folder is still recognized by the metadata ccl-tui wrote into its task.toml
    task = tmp_path / "renamed"
    task.mkdir()
    (task / "task.toml").write_text('[metadata]\ngenerator = "ccl-tui"\n[metadata.issue]\nid = "I-0000000001"\n')
    m = matching.match_trial("renamed", str(task))
    assert m is not None and (m.issue_id, m.how) == ("I-0000000001", "metadata")
    # found through --tasks-dir when the recorded path is from another machine
    m = matching.match_trial("renamed", "/elsewhere/renamed", [tmp_path])
    assert m is not None and m.issue_id == "I-0000000001"
    # a task.toml somebody else wrote is not trusted
    (task / "task.toml").write_text('[metadata]\n[metadata.issue]\nid = "I-0000000001"\n')
    assert matching.match_trial("renamed", str(task)) is None


# ------------------------------------------------------------------------------------------------ store
@pytest_asyncio.fixture
async def demo(demo_db: Path, tmp_path: Path) -> AsyncIterator[Store]:
    store = await Store.open(copy_db(demo_db, tmp_path / "demo.sqlite"))
    yield store
    await store.close()


async def test_import_is_idempotent_and_matches_the_issue(demo: Store) -> None:
    reports = await import_jobs(demo, JOBS)
    assert [r.run.label for r in reports] == [BASELINE.name, AFTER.name]
    base, after = reports
    assert (base.added, base.already, base.new_run) == (6, 0, True)
    assert base.unmatched == ["hello-world"]
    assert (after.added, len(after.skipped), after.pending) == (5, 2, 1)
    again = await import_jobs(demo, AFTER)
    assert (again[0].added, again[0].already, again[0].new_run) == (0, 5, False)
    assert again[0].run.label == AFTER.name
    assert [r.trials for r in await runs(demo)] == [6, 5]
    # the same job under another label is refused, as is a label another job holds
    with pytest.raises(JobImportError, match="imported before"):
        await import_jobs(demo, AFTER, label="other")

    issues = await ranked_issues(demo)
    report = await improvement(demo, issues, scope_from(None))
    fixed = next(i for i in issues if i.signature == FIXED)
    assert [e.issue_id for e in report.issues] == [fixed.id]
    entry = report.issues[0]
    first, last = entry.runs
    assert (first.passed.hits, first.passed.n, first.errors, first.ungraded, first.trials) == (1, 4, 2, 1, 5)
    assert (last.passed.hits, last.passed.n) == (4, 5)
    assert entry.run_change is not None
    assert entry.run_change.difference == pytest.approx(0.8 - 0.25)
    assert (entry.run_change.low, entry.run_change.high) == pytest.approx(newcombe(1, 4, 4, 5))
    assert not entry.run_change.significant  # 9 graded trials cannot show it
    assert entry.fix is None and entry.recurrence is None
    assert entry.weeks and sum(w.hits for w in entry.weeks) == fixed.impact.sessions


async def test_label_clash_is_refused(demo: Store, tmp_path: Path) -> None:
    await import_jobs(demo, BASELINE, label="baseline")
    copy = tmp_path / "copy"
    shutil.copytree(AFTER, copy)
    with pytest.raises(JobImportError, match="taken by another job"):
        await import_jobs(demo, copy, label="baseline")
    with pytest.raises(JobImportError, match="holds 2 jobs"):
        await import_jobs(demo, JOBS, label="x")


async def test_a_trial_finishing_later_is_added_on_reimport(demo: Store, tmp_path: Path) -> None:
    job = tmp_path / "job"
    shutil.copytree(AFTER, job)
    first = (await import_jobs(demo, job))[0]
    assert (first.added, first.pending) == (5, 1)
    # the running trial finishes: Harbor writes its result.json
    running = next(p for p in job.iterdir() if p.name.endswith("__running"))
    done = orjson.loads(
        next(
            p for p in sorted(job.glob("*/result.json")) if "__halfwri" not in str(p) and "__unknown" not in str(p)
        ).read_bytes()
    )
    done.update(id="00000000-0000-4000-8000-000000000001", trial_name=running.name)
    (running / "result.json").write_bytes(orjson.dumps(done))
    second = (await import_jobs(demo, job))[0]
    assert (second.added, second.already, second.pending, second.new_run) == (1, 5, 0, False)


async def test_signal_tasks_resolve_to_their_issue(demo: Store, tmp_path: Path) -> None:
    issues = await ranked_issues(demo)
    fixed = next(i for i in issues if i.signature == FIXED)
    ev = fixed.evidence[0]
    doc = orjson.loads(next(BASELINE.glob("*/result.json")).read_bytes())
    doc["task_name"] = f"ccl-signal-{ev.session_id[:13]}-{ev.seq}-command-failure"
    doc["task_id"] = {"path": f"/nowhere/{doc['task_name']}"}
    job = tmp_path / "job"
    (job / "t1").mkdir(parents=True)
    (job / "config.json").write_text("{}")
    (job / "t1" / "result.json").write_bytes(orjson.dumps(doc))
    report = (await import_jobs(demo, job))[0]
    assert report.unmatched == []
    entry = (await improvement(demo, issues)).issues[0]
    assert entry.issue_id == fixed.id


# ------------------------------------------------------------------------------------------------ recurrence
async def test_the_fixed_issue_drops_after_its_fix_date_and_the_others_do_not(demo: Store) -> None:
    """On the demo corpus: only the root cause the corpus fixes on FIX_DATE shows a drop at that date."""
    issues = await ranked_issues(demo)
    infos = await demo.session_infos()
    origins = scope_from(None).origins
    fixed = next(i for i in issues if i.signature == FIXED)
    rec = recurrence(fixed, infos, FIX_DATE, origins)
    assert rec.verdict == "dropped", rec
    assert rec.before.rate >= 3 * rec.after.rate
    assert rec.before.n >= 40 and rec.after.n >= 20
    assert rec.change.high < -0.15
    # the fix (AGENTS.md: "run `uv sync` first") removes every missing-module failure, httpx is the main one
    others = [i for i in issues if "ModuleNotFoundError" not in i.signature and i.impact.sessions >= 8]
    assert len(others) >= 10
    for issue in others:
        other = recurrence(issue, infos, FIX_DATE, origins)
        assert other.verdict != "dropped", (issue.signature, other)


async def test_fix_marks_feed_the_report(demo: Store) -> None:
    issues = await ranked_issues(demo)
    fixed = next(i for i in issues if i.signature == FIXED)
    fix = await mark_fix(demo, fixed, FIX_DATE, "AGENTS.md: run `uv sync` first")
    assert (fix.issue_id, fix.fixed_on) == (fixed.id, FIX_DATE)
    report = await improvement(demo, issues, scope_from(None))
    entry = next(e for e in report.issues if e.issue_id == fixed.id)
    assert entry.fix is not None and entry.fix.note.startswith("AGENTS.md")
    assert entry.recurrence is not None and entry.recurrence.verdict == "dropped"
    weeks = entry.weeks
    assert [w.week for w in weeks] == sorted(w.week for w in weeks)
    assert sum(w.occurrences for w in weeks) >= sum(w.hits for w in weeks) > 0
    with pytest.raises(ValueError, match="not a date"):
        await mark_fix(demo, fixed, "26/10/2026")


async def test_the_bundled_demo_runs_show_the_fixed_task_improving(demo: Store) -> None:
    """The simulated before/after codex runs are compared by default; the real oracle/nop runs next to them
    (scripts/demo_harbor_runs.py) are reference runs: imported and matched, never the default comparison."""
    jobs = sorted(p for p in (DEMO / DEMO_JOBS).iterdir() if p.is_dir())
    simulated = [job.name for job in jobs if is_simulated_job(job)]
    reports = await import_jobs(demo, DEMO / DEMO_JOBS)
    assert len(reports) == len(jobs) and all(r.unmatched == [] and r.skipped == [] for r in reports)
    issues = await ranked_issues(demo)
    report = await improvement(demo, issues)
    assert (report.baseline, report.after) == (simulated[0], simulated[-1])
    real = {r.run.label for r in reports} - set(simulated)
    # where the outcomes come from is stored and said wherever a run is named
    provenance = {r.run.label: r.run.provenance for r in reports}
    assert {provenance[label] for label in simulated} == {"simulated"}
    assert {provenance[label] for label in real} <= {"local"}
    described = {r.label: r.describe() for r in report.runs}
    assert all("simulated" in described[label] for label in simulated)
    assert all(described[label] == f"{label} (local, unisolated; {label[5:]}: reference)" for label in real)
    assert real == {"real-oracle", "real-nop"}
    if real:  # the runnable episode's tasks: oracle solves every one, nop none
        unittest = next(i for i in issues if i.signature == "unittest | AssertionError")
        entry = next(e for e in report.issues if e.issue_id == unittest.id)
        rates = {r.label: (r.passed.hits, r.passed.n) for r in entry.runs}
        assert rates == {"real-oracle": (5, 5), "real-nop": (0, 5)}, rates
    by_sig = {next(i.signature for i in issues if i.id == e.issue_id): e for e in report.issues}
    assert set(by_sig) - {"unittest | AssertionError"} == {sig for _, sig, _, _ in DEMO_TASKS}
    fixed = by_sig[FIXED]
    assert fixed.run_change is not None and fixed.run_change.significant and fixed.run_change.difference > 0.4
    for sig, entry in by_sig.items():
        if sig not in (FIXED, "unittest | AssertionError"):  # the latter has only reference runs
            assert entry.run_change is not None and not entry.run_change.significant, sig


def test_trial_passes_only_with_a_full_reward() -> None:
    t = Trial("i", "n", "t", None, None, 0.99, {"reward": 0.99}, None, None, None, None, None, None, None)
    assert t.graded and not t.passed


def test_recurrence_verdicts_at_the_edges() -> None:
    from ccl_tui.model.issues import Impact, Issue, SessionInfo

    infos = {f"s{i}": SessionInfo("repo", "interactive", f"2026-10-{1 + i % 20:02d}T10:00:00Z") for i in range(40)}
    issue = Issue(
        "I-1",
        "sig",
        "command_failure",
        "t",
        Impact(4, 0.5, 1.0, 1.0, 2.0),
        5,
        None,
        None,
        repos=["repo"],
        session_ids=[f"s{i}" for i in range(0, 40, 4)],
    )
    assert recurrence(issue, infos, "2026-11-30").verdict == "no sessions since the fix yet"
    assert recurrence(issue, infos, "2026-09-01").verdict == "no sessions before the fix"
    rec = recurrence(issue, infos, "2026-10-11")
    assert rec.verdict == "no significant change" and rec.before.n + rec.after.n == 40
    assert recurrence(issue, infos, "2026-10-11", origins=("ide",)).before.n == 0
    with pytest.raises(ValueError):
        recurrence(issue, infos, "Oct 11")
