"""Harbor runs ccl-tui tasks on this machine, without Docker, through ccl_tui.tasks.harbor_local.LocalEnvironment.

The main test is the whole loop with real parts only: two real git repositories with a failing test and its fix,
two Codex sessions, two ccl-tui tasks (one written for an issue, one for a signal), ``harbor run`` (Harbor's own
CLI, jobs, trials, oracle and nop agents, verifier) with the local environment, and the job folders imported by
ccl-tui's results layer: oracle passes 100%, nop 0%, every trial tied to its task's issue.

The other tests pin what the environment maps, translates and refuses.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ccl_tui.pipeline import ranked_issues
from ccl_tui.results.api import import_jobs, improvement
from ccl_tui.store import results as sql
from ccl_tui.store.db import Store
from ccl_tui.tasks.api import write_task_for_issue, write_task_for_signal
from tests.builders import Rollout
from tests.conftest import require_harbor
from tests.tasks_helpers import BUGGY_CALC, PYTEST, TEST_CALC, make_repo, populated, python_on_path

IMPORT_PATH = "ccl_tui.tasks.harbor_local:LocalEnvironment"
HARBOR = Path(sys.executable).parent / "harbor"

SHAPES = "from maths import pi\n\n\ndef circle_area(r):\n    return pi * r * r\n"
TEST_SHAPES = "from shapes import circle_area\n\n\ndef test_area():\n    assert round(circle_area(1), 2) == 3.14\n"
PYTEST_SHAPES = "python -m pytest -q -p no:cacheprovider tests/test_shapes.py"


def _calc_session(cwd: Path, commit: str) -> Rollout:
    """A failing assertion, a one-line fix, the test passes."""
    r = Rollout(
        cwd=str(cwd),
        start="2026-10-05T09:00:00",
        git={"commit_hash": commit, "branch": "main", "repository_url": "https://github.com/example/calc.git"},
    )
    r.user("add() returns the wrong result; fix it so the tests pass")
    r.exec(PYTEST, "F.\nE   assert -1 == 5\nFAILED tests/test_calc.py::test_add - assert -1 == 5\n1 failed", 1)
    r.patch("calc.py", old="    return a - b", new="    return a + b")
    r.exec(PYTEST, "..\n2 passed in 0.01s", 0)
    r.complete()
    return r


def _shapes_session(cwd: Path, commit: str) -> Rollout:
    """An import error (another issue than the assertion above), a one-line fix, the test passes."""
    r = Rollout(
        cwd=str(cwd),
        start="2026-10-06T10:00:00",
        git={"commit_hash": commit, "branch": "main", "repository_url": "https://github.com/example/shapes.git"},
    )
    r.user("the shapes tests do not even import; make them pass")
    r.exec(PYTEST_SHAPES, "E   ModuleNotFoundError: No module named 'maths'\n1 error in 0.05s", 2)
    r.patch("shapes.py", old="from maths import pi", new="from math import pi")
    r.exec(PYTEST_SHAPES, ".\n1 passed in 0.01s", 0)
    r.complete()
    return r


async def _two_tasks(tmp_path: Path, store: Store) -> tuple[Path, dict[str, str]]:
    """Two ccl-tui tasks in one dataset folder; returns it and task name -> the issue each must be matched to."""
    calc, calc_commit = make_repo(tmp_path / "calc", {"calc.py": BUGGY_CALC, "tests/test_calc.py": TEST_CALC})
    shapes, shapes_commit = make_repo(tmp_path / "shapes", {"shapes.py": SHAPES, "tests/test_shapes.py": TEST_SHAPES})
    r_calc, r_shapes = _calc_session(calc, calc_commit), _shapes_session(shapes, shapes_commit)
    r_calc.write(tmp_path / "codex")
    r_shapes.write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    issues = [i for i in await store.issues() if i.kind == "command_failure"]
    calc_issue = next(i for i in issues if r_calc.id in i.session_ids)
    shapes_issue = next(i for i in issues if r_shapes.id in i.session_ids)
    assert calc_issue.id != shapes_issue.id
    dataset = tmp_path / "tasks"
    by_issue = await write_task_for_issue(store, calc_issue.id, dataset)
    (signal,) = await store.signals(r_shapes.id, kinds=["command_failure"])
    by_signal = await write_task_for_signal(store, r_shapes.id, signal.seq, dataset)
    for result in (by_issue, by_signal):
        assert result.environment_mode == "snapshot" and result.has_solution, result
    return dataset, {by_issue.path.name: calc_issue.id, by_signal.path.name: shapes_issue.id}


def _harbor_run(dataset: Path, jobs: Path, agent: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HARBOR_TELEMETRY": "0", "PATH": python_on_path()}
    return subprocess.run(
        [
            str(HARBOR),
            "run",
            "-p",
            str(dataset),
            "-a",
            agent,
            "-e",
            IMPORT_PATH,
            "-o",
            str(jobs),
            "--job-name",
            agent,
            "-n",
            "2",
            "-y",
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _results(job: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(job.glob("*/result.json"))]


async def test_harbor_runs_ccl_tasks_locally_oracle_passes_nop_fails(tmp_path: Path, store: Store) -> None:
    require_harbor()
    dataset, expected = await _two_tasks(tmp_path, store)
    jobs, work = tmp_path / "jobs", tmp_path / "work"
    work.mkdir()
    timings = {}
    for agent in ("oracle", "nop"):
        began = time.monotonic()
        proc = await asyncio.to_thread(_harbor_run, dataset, jobs, agent, "--ek", f"root={work}")
        timings[agent] = time.monotonic() - began
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    print(f"harbor run wall times: {timings}")

    # real job folders, written by Harbor: one trial per task, graded by the task's own verifier
    for agent, reward in (("oracle", 1.0), ("nop", 0.0)):
        job = jobs / agent
        assert (job / "config.json").is_file() and (job / "result.json").is_file()
        trials = _results(job)
        assert sorted(t["task_name"] for t in trials) == sorted(expected)
        for t in trials:
            assert t["exception_info"] is None, t["exception_info"]
            assert t["agent_info"]["name"] == agent
            assert t["verifier_result"]["rewards"] == {"reward": reward}, t["trial_name"]
            trial_dir = job / t["trial_name"]
            marker = json.loads((trial_dir / "ccl-local-environment.json").read_text())
            assert marker["isolated"] is False and marker["network_policy"] == "public"
            assert "NOT ISOLATED" in (trial_dir / "trial.log").read_text()
            stdout = (trial_dir / "verifier" / "test-stdout.txt").read_text()
            assert f"check exited with status {0 if reward else 1}" in stdout or (
                not reward and "check exited with status" in stdout
            ), stdout
        if agent == "oracle":  # the solution ran: Harbor downloaded its log
            assert all((job / t["trial_name"] / "agent" / "oracle.txt").is_file() for t in trials)
        assert not list(work.iterdir()), "the working copies were not removed (Harbor deletes by default)"

    # ccl-tui's results layer reads them and ties every trial to its task's issue
    nop = (await import_jobs(store, jobs / "nop", task_dirs=[dataset]))[0]
    oracle = (await import_jobs(store, jobs / "oracle", task_dirs=[dataset]))[0]
    for report in (nop, oracle):
        assert (report.added, report.unmatched, report.skipped, report.pending) == (2, [], [], 0)
    stored = await sql.trials(store.db, set(expected.values()))
    assert len(stored) == 4
    for label, trial in stored:
        assert trial.issue_id == expected[trial.task_name] and trial.match == "metadata", (label, trial)

    report = await improvement(store, await ranked_issues(store), baseline="nop", after="oracle")
    assert sorted(e.issue_id for e in report.issues) == sorted(expected.values())
    for entry in report.issues:
        rates = {r.label: (r.passed.hits, r.passed.n) for r in entry.runs}
        assert rates == {"nop": (0, 1), "oracle": (1, 1)}, entry.issue_id
        assert entry.run_change is not None and entry.run_change.difference == 1.0


def test_a_no_network_task_is_rejected_before_start_unless_opted_in(tmp_path: Path) -> None:
    """Harbor: providers "must enforce the policy exactly or reject the task before start". A local process
    cannot be cut off from the network, so the job stops before anything runs; the opt-in runs it and says so."""
    require_harbor()
    dataset = tmp_path / "tasks"
    asyncio.run(_one_task(tmp_path, dataset))
    (task,) = dataset.iterdir()
    toml = task / "task.toml"
    toml.write_text(toml.read_text().replace("[environment]\n", '[environment]\nnetwork_mode = "no-network"\n', 1))
    jobs, work = tmp_path / "jobs", tmp_path / "work"
    work.mkdir()
    refused = _harbor_run(dataset, jobs, "oracle", "--ek", f"root={work}")
    assert refused.returncode != 0
    said = " ".join((refused.stdout + refused.stderr).split()).replace("│", "")
    assert "cannot be enforced by ccl-tui's LocalEnvironment" in " ".join(said.split()), said[-2000:]
    assert not list(work.iterdir()) and not list((jobs / "oracle").glob("*/result.json"))

    shutil.rmtree(jobs)
    ran = _harbor_run(dataset, jobs, "oracle", "--ek", f"root={work}", "--ek", "allow_unenforced_network=true")
    assert ran.returncode == 0, ran.stdout[-3000:]
    (trial,) = _results(jobs / "oracle")
    assert trial["verifier_result"]["rewards"] == {"reward": 1.0}
    marker = json.loads((jobs / "oracle" / trial["trial_name"] / "ccl-local-environment.json").read_text())
    assert marker["network_policy"] == "no-network" and marker["network_policy_enforced"] is False
    assert "'no-network' is NOT ENFORCED" in (jobs / "oracle" / trial["trial_name"] / "trial.log").read_text()


# ---------------------------------------------------------------------------------------------------------------
# the environment itself: start state, path mapping, exec, transfers, refusals (constructed as Harbor does)
# ---------------------------------------------------------------------------------------------------------------


async def _one_task(tmp_path: Path, dataset: Path, *, move_repo: bool = False) -> Path:
    """The calc task, in its own store. ``move_repo``: the checkout is gone when the task is written (clone mode);
    returns where the repository is now."""
    repo, commit = make_repo(tmp_path / "calc", {"calc.py": BUGGY_CALC, "tests/test_calc.py": TEST_CALC})
    store = await Store.open(tmp_path / "one.sqlite")
    try:
        _calc_session(repo, commit).write(tmp_path / "codex-one")
        await populated(store, tmp_path / "codex-one")
        if move_repo:
            repo = repo.rename(tmp_path / "calc-moved")
        (issue,) = [i for i in await store.issues() if i.kind == "command_failure"]
        result = await write_task_for_issue(store, issue.id, dataset)
        assert result.environment_mode == ("clone" if move_repo else "snapshot"), result
    finally:
        await store.close()
    return repo


def _environment(task: Path, trial_dir: Path, agent: str = "oracle", **kwargs: Any) -> Any:
    """A LocalEnvironment built the way Harbor's EnvironmentFactory builds one, with a trial config.json."""
    from harbor.models.task.task import Task
    from harbor.models.trial.config import AgentConfig, TaskConfig, TrialConfig
    from harbor.models.trial.paths import TrialPaths

    from ccl_tui.tasks.harbor_local import LocalEnvironment

    t = Task(task)
    paths = TrialPaths(trial_dir)
    paths.mkdir()
    config = TrialConfig(task=TaskConfig(path=task), agent=AgentConfig(name=agent), trial_name="t")
    paths.config_path.write_text(config.model_dump_json())
    return LocalEnvironment(
        environment_dir=t.paths.environment_dir,
        environment_name=t.name,
        session_id="t__env",
        trial_paths=paths,
        task_env_config=t.config.environment,
        **kwargs,
    )


async def test_start_state_paths_exec_and_transfers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_harbor()
    monkeypatch.setenv("PATH", python_on_path())
    dataset, work = tmp_path / "tasks", tmp_path / "work"
    await _one_task(tmp_path, dataset)
    (task,) = dataset.iterdir()
    env = _environment(task, tmp_path / "trial", root=str(work))
    await env.start(force_build=False)
    (copy,) = work.iterdir()
    app = copy / "app"
    assert (app / "calc.py").read_text() == BUGGY_CALC  # the snapshot, as a fresh one-commit repository
    assert (app / ".git").is_dir()

    # container paths map into the copy, and only there
    assert env._map("/app/calc.py") == app / "calc.py"
    assert env._map("/logs/verifier/reward.txt") == copy / "logs" / "verifier" / "reward.txt"
    assert env._map("calc.py") == app / "calc.py"  # relative: from the task's working directory
    for outside in ("/etc/passwd", "/app/../etc/passwd", "/application", "/", "/home"):
        assert env._map(outside) is None, outside
    (app / "escape").symlink_to("/etc")
    assert env._map("/app/escape/passwd") is None
    with pytest.raises(ValueError, match="outside the trial's working copy"):
        await env.upload_file(task / "task.toml", "/etc/ccl-should-not-exist")
    with pytest.raises(ValueError, match="outside the trial's working copy"):
        await env.download_file("/app/escape/passwd", tmp_path / "x")
    assert not await asyncio.to_thread(os.path.exists, "/etc/ccl-should-not-exist")
    assert not await asyncio.to_thread(os.path.exists, tmp_path / "x")

    # commands: container paths rewritten at token boundaries only
    assert env.translate("'/tests/test.sh' > /logs/verifier/test-stdout.txt 2>&1") == (
        f"'{copy}/tests/test.sh' > {copy}/logs/verifier/test-stdout.txt 2>&1"
    )
    for kept in ("https://x.org/tests/a", "$D/tests", "./tests", "a/tests", "/usr/bin/env", "/applications"):
        assert env.translate(kept) == kept

    result = await env.exec(
        'pwd; echo "$CCL_REPO_ROOT|$CCL_VERIFIER_DIR|$HOME|$TMPDIR|$X"; cat /app/calc.py',
        env={"X": "/solution/solve.sh"},
    )
    lines = (result.stdout or "").splitlines()
    assert result.return_code == 0 and lines[0] == str(app)
    assert lines[1] == f"{app}|{copy}/logs/verifier|{copy}/home|{copy}/tmp|{copy}/solution/solve.sh"
    assert "return a - b" in result.stdout
    assert (await env.exec("exit 3")).return_code == 3

    # transfers: directories copied both ways; downloads skip symlinks and special files
    await env.upload_dir(task / "tests", "/tests")
    assert (copy / "tests" / "test.sh").read_text() == (task / "tests" / "test.sh").read_text()
    await env.exec(
        "mkdir -p /logs/verifier/sub && echo 1 > /logs/verifier/sub/r && ln -s /etc/passwd /logs/verifier/l"
        " && mkfifo /logs/verifier/fifo"
    )
    await env.download_dir("/logs/verifier", tmp_path / "down")
    assert (tmp_path / "down" / "sub" / "r").read_text() == "1\n"
    assert not (tmp_path / "down" / "l").exists() and not (tmp_path / "down" / "fifo").exists()
    assert await env.is_dir("/logs/verifier") and await env.is_file("/app/calc.py")
    assert not await env.is_dir("/etc") and not await env.is_file("/etc/passwd")

    await env.stop(delete=True)
    assert not copy.exists()


async def test_a_timeout_ends_the_command_and_what_it_started(tmp_path: Path) -> None:
    require_harbor()
    dataset = tmp_path / "tasks"
    await _one_task(tmp_path, dataset)
    (task,) = dataset.iterdir()
    env = _environment(task, tmp_path / "trial", root=str(tmp_path / "work"))
    await env.start(force_build=False)
    began = time.monotonic()
    with pytest.raises(RuntimeError, match="timed out after 1 seconds"):
        await env.exec("sleep 60 & echo $! > /tmp/child; sleep 60", timeout_sec=1)
    assert time.monotonic() - began < 10
    child = int(env._map("/tmp/child").read_text())
    await asyncio.sleep(0.2)
    try:
        with open(f"/proc/{child}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        state = "gone"
    assert state in ("gone", "Z", "X"), state  # killed (a zombie until something reaps it)
    await env.stop(delete=True)


async def test_refusals(tmp_path: Path) -> None:
    """Untrusted agents, task folders ccl-tui did not write, tasks without a repository: refused with the reason."""
    require_harbor()
    dataset, work = tmp_path / "tasks", tmp_path / "work"
    await _one_task(tmp_path, dataset)
    (task,) = dataset.iterdir()
    env = _environment(task, tmp_path / "trial-codex", agent="codex", root=str(work))
    with pytest.raises(RuntimeError, match="refuses agent 'codex'"):
        await env.start(force_build=False)
    assert not work.exists() or not list(work.iterdir())  # refused before anything was made
    trusted = _environment(task, tmp_path / "trial-any", agent="codex", root=str(work), allow_any_agent="true")
    await trusted.start(force_build=False)
    await trusted.stop(delete=True)

    toml = task / "task.toml"
    original = toml.read_text()
    toml.write_text(original.replace('generator = "ccl-tui"', 'generator = "someone-else"'))
    with pytest.raises(ValueError, match="only task folders written by ccl-tui"):
        _environment(task, tmp_path / "trial-foreign")
    toml.write_text(original.replace('mode = "snapshot"', 'mode = "needs-repository"'))
    with pytest.raises(ValueError, match="needs the session's repository"):
        _environment(task, tmp_path / "trial-needs")
    toml.write_text(original)
    from harbor.models.task.config import NetworkMode, NetworkPolicy

    with pytest.raises(ValueError, match=r"allowlist.*cannot be enforced"):
        _environment(
            task,
            tmp_path / "trial-allow",
            network_policy=NetworkPolicy(network_mode=NetworkMode.ALLOWLIST, allowed_hosts=["pypi.org"]),
        )


async def test_a_clone_task_is_fetched_at_its_commit_and_fails_clearly_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checkout is gone, so the task clones its recorded URL. git's url.<base>.insteadOf points that URL at a
    local copy (no network in tests); pointed at nothing, the start fails with what to do."""
    require_harbor()
    dataset, work = tmp_path / "tasks", tmp_path / "work"
    moved = await _one_task(tmp_path, dataset, move_repo=True)
    (task,) = dataset.iterdir()
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{moved.as_uri()}.insteadOf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "https://github.com/example/calc.git")
    env = _environment(task, tmp_path / "trial", root=str(work))
    await env.start(force_build=False)
    (copy,) = work.iterdir()
    assert (copy / "app" / "calc.py").read_text() == BUGGY_CALC
    assert sorted(p.name for p in copy.iterdir() if p.name.startswith(".")) == []  # the clone staging is gone
    await env.stop(delete=True)

    monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{(tmp_path / 'nowhere').as_uri()}.insteadOf")
    offline = _environment(task, tmp_path / "trial-offline", root=str(work))
    with pytest.raises(
        RuntimeError,
        match=r"cannot fetch https://github\.com/example/calc\.git at commit [0-9a-f]{40} \(git fetch: .*needs network access",
    ):
        await offline.start(force_build=False)
    await offline.stop(delete=True)
    assert not list(work.iterdir())


async def test_harbor_runs_two_demo_tasks_oracle_passes_nop_fails(demo_db: Path, tmp_path: Path) -> None:
    """The demo corpus's runnable episode (its repositories ship as bundles in demo_sessions/repos): two of its
    sessions' tasks, written from the demo database (as `ccl-tui task --signal` writes them), run by `harbor run`
    with the local environment; the job folders imported: oracle 100%, nop 0%."""
    require_harbor()
    from ccl_tui.demo import episode
    from tests.tui_support import copy_db

    store = await Store.open(copy_db(demo_db, tmp_path / "demo.sqlite"))
    try:
        plans = episode.plans(2026, 500)[:2]
        dataset = tmp_path / "dataset"
        written = []
        for plan in plans:
            signals = await store.signals(plan.session_id, kinds=["command_failure"])
            result = await write_task_for_signal(store, plan.session_id, min(s.seq for s in signals), dataset)
            assert result.environment_mode == "snapshot" and result.has_solution, result.reason
            written.append(result)
        jobs, work = tmp_path / "jobs", tmp_path / "work"
        work.mkdir()
        for agent in ("oracle", "nop"):
            proc = await asyncio.to_thread(_harbor_run, dataset, jobs, agent, "--ek", f"root={work}")
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        issue = next(i for i in await ranked_issues(store) if i.signature == "unittest | AssertionError")
        for agent, hits in (("oracle", 2), ("nop", 0)):
            (report,) = await import_jobs(store, jobs / agent, task_dirs=[dataset])
            assert (report.added, report.unmatched, report.skipped) == (2, [], [])
            assert report.run.provenance == "local"
            trials = [t for _, t in await sql.trials(store.db, {issue.id}) if t.task_name.startswith("ccl-")]
            graded = [t for t in trials if t.agent == agent]
            assert len(graded) == 2 and sum(t.passed for t in graded) == hits, [(t.task_name, t.reward) for t in graded]
    finally:
        await store.close()
