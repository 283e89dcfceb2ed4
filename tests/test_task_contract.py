"""The task contract (proven fix / unproven / keep-green / refused) and a faithful start state, end to end.

Sessions are built with tests/builders.py in Codex's real record shapes; repositories are real git repositories
made in tmp dirs. A task is only a *fix* task when its verifier is proven to fail at the start state: recorded by
the session in exactly that state, or run by ``tasks check --execute`` (fails before, passes after). A check that
passes at the start becomes keep-green (exported only when asked), a check that depends on the host is refused
with the reason, and the start state replays the session's own edits: apply_patch in every form Codex records
and files written by shell redirections.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import tomllib
from pathlib import Path

import pytest

from ccl_tui.store.db import Store
from ccl_tui.tasks import contract
from ccl_tui.tasks.api import write_task_for_issue, write_task_for_signal
from ccl_tui.tasks.check import CHECK_RECORD, RunOptions, check_path, prepare_repo
from ccl_tui.tasks.contract import Contract, Run, classify, host_dependency, network_failure, refine, version_from
from ccl_tui.tasks.export import MANIFEST, export_tasks
from ccl_tui.tasks.model import TaskRefused
from ccl_tui.tasks.shellwrites import shell_effects
from tests.builders import Rollout
from tests.conftest import require_harbor
from tests.tasks_helpers import BUGGY_CALC, PYTEST, TEST_CALC, cli_parser, make_repo, populated, python_on_path

FIXED_CALC = BUGGY_CALC.replace("a - b", "a + b")


# ---------------------------------------------------------------------------------------------------------------
# Host dependency: a careful classifier over the command
# ---------------------------------------------------------------------------------------------------------------

REPO_CHECKS = [
    "pytest -q",
    "npm run -s typecheck",
    'cd "${CCL_REPO_ROOT}" && pytest -q 2>/dev/null',
    "cd pkg && npm test",
    "go test ./... && cargo test --manifest-path ./Cargo.toml",
    "pytest -q > /tmp/out.log 2>&1; tail -n 50 /tmp/out.log",  # scratch files the check writes itself
    "python -m pytest --basetemp=/tmp/pt -q",
    "/usr/bin/env python -m pytest",
    "~/.cargo/bin/cargo test",  # a tool in the home, not state
    "echo 'see http://localhost:3000' && npm test",  # printing an address is not talking to it
    "timeout 60 npm test",
    "date; pytest -q",  # printing the time is not depending on it
    'echo "started $(date)"; pytest',
    "PATH=$PATH:node_modules/.bin npm test",
    "ls /etc && pytest",
    "npm install",
    "bash -lc 'cd web && npm test'",
    "[[ -f pyproject.toml ]] && pytest",
]

HOST_CHECKS = {
    "ps -ef | rg node": "processes",
    "pgrep -f uvicorn": "processes",
    "lsof -i :3000": "processes",
    "systemctl status nginx": "processes",
    'bash -c "ps aux | grep node"': "processes",
    "kill -0 $(cat server.pid)": "processes",
    "docker ps": "container engine",
    "curl -s http://localhost:3000/health": "network endpoint",
    "wget -q https://example.org/a": "network endpoint",
    "nc -z localhost 5432": "network endpoint",
    "ping -c1 8.8.8.8": "network endpoint",
    "dig example.com": "network endpoint",
    "git fetch origin && git diff origin/main": "git remote",
    "npm view react version": "package registry",
    "node scripts/smoke.js http://localhost:8080/api": "server running on the host",
    "pytest --base-url http://127.0.0.1:8000": "server running on the host",
    "python -c \"import urllib.request; urllib.request.urlopen('https://pypi.org')\"": "fetches a URL",
    "sleep 5 && npm test": "sleep",
    "npm run dev & sleep 3; npm test": "background process",
    "[ $(date +%s) -lt 1700000000 ]": "current time",
    'test "$(date +%H)" -lt 18 && echo day': "current time",
    "X=$(date +%s); test $X -gt 0": "current time",
    "date +%s": "current time",
    "cat /home/alice/notes.txt": "absolute path outside the repository",
    "diff /tmp/expected.txt out.txt": "left on the host",
    "cat ~/.npmrc && npm test": "home directory",
    "cd .. && ls": "climbs out of the repository",
}


@pytest.mark.parametrize("command", REPO_CHECKS)
def test_repository_checks_are_not_refused(command: str) -> None:
    assert host_dependency(command) is None


@pytest.mark.parametrize("command", sorted(HOST_CHECKS))
def test_host_dependent_checks_are_refused_with_the_reason(command: str) -> None:
    reason = host_dependency(command)
    assert reason is not None and HOST_CHECKS[command] in reason, reason


# ---------------------------------------------------------------------------------------------------------------
# Shell writes whose content is in the log, and changes that are not
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("cat > a.py <<'EOF'\nx = $HOME\nEOF", [("a.py", "x = $HOME\n", False, "")]),
        ("cat <<EOF > b.txt\nhello\nEOF\npytest -q", [("b.txt", "hello\n", False, "")]),
        ("cat <<EOF > b.txt\nhello \\$USER\nEOF", [("b.txt", "hello $USER\n", False, "")]),
        ("cat <<-EOF > t.txt\n\tindented\n\tEOF", [("t.txt", "indented\n", False, "")]),
        ("cd sub && printf '%s\\n' a b > c.txt", [("c.txt", "a\nb\n", False, "sub")]),
        ("echo -n hi > d.txt && echo more >> d.txt", [("d.txt", "hi", False, ""), ("d.txt", "more\n", True, "")]),
        ("tee e.txt <<'EOF'\nline\nEOF", [("e.txt", "line\n", False, "")]),
        ("echo x | tee -a f.txt > /dev/null", [("f.txt", "x\n", True, "")]),
        ("cat <<< 'here' > h.txt", [("h.txt", "here\n", False, "")]),
        (": > empty.txt", [("empty.txt", "", False, "")]),
        ("bash -lc \"cd pkg && cat > m.py <<'EOF'\nA=1\nEOF\"", [("m.py", "A=1\n", False, "pkg")]),
        ("mkdir -p src/x && cat > src/x/__init__.py <<'EOF'\nEOF", [("src/x/__init__.py", "", False, "")]),
    ],
)
def test_shell_writes_are_read_from_the_command(command: str, expected: list[tuple[str, str, bool, str]]) -> None:
    fx = shell_effects(command)
    assert [(w.path, w.content, w.append, w.base) for w in fx.writes] == expected
    assert fx.changes == []


@pytest.mark.parametrize(
    ("command", "what"),
    [
        ("cat <<EOF > b.txt\nhello $USER\nEOF", "redirected into a file"),  # expands: content unknown
        ("sed -i 's/a/b/' src/x.py && pytest", "sed -i"),
        ("python gen.py > src/gen.py", "output of python"),
        ("if true; then echo a > g.txt; fi", "may not have run"),
        ("git stash && npm test", "git stash"),
        ("npm install lodash", "npm install"),
        ("black src", "black"),
        ("npx prettier --write src", "prettier"),
        ("find . -name '*.py' -exec sed -i 's/a/b/' {} +", "sed -i"),
        ("cat > f <<'EOF'\nno end", "redirected into a file"),  # truncated: not replayed
        ("echo $(date) > stamp.txt", "redirected into a file"),
    ],
)
def test_changes_without_their_content_are_unreplayable(command: str, what: str) -> None:
    fx = shell_effects(command)
    assert not fx.writes and any(what in c.what for c in fx.changes), fx


@pytest.mark.parametrize(
    "command",
    ["sudo -u www sed -i 's/a/b/' x.py", "env -u HOME sed -i 's/a/b/' x.py", "nice -n 5 black src"],
)
def test_wrappers_with_valued_flags_do_not_hide_the_program(command: str) -> None:
    """The wrapper rules of failure signatures (a flag's value is not the program) apply to shell effects too."""
    fx = shell_effects(command)
    assert fx.changes, fx


@pytest.mark.parametrize(
    "command",
    [
        "git checkout -b feature",
        "npm install",
        "black --check .",
        "pytest -q",
        "ruff check .",
        "cat > /dev/null <<'EOF'\nx\nEOF",
    ],
)
def test_reads_and_installs_change_nothing(command: str) -> None:
    fx = shell_effects(command)
    assert not fx.writes and not fx.changes


def test_network_failures_and_tool_versions_are_read_from_outputs() -> None:
    assert network_failure("npm ERR! code EAI_AGAIN\nnpm ERR! request to https://registry.npmjs.org/x failed")
    assert network_failure("fatal: unable to access 'https://github.com/a/b/': Could not resolve host: github.com")
    assert network_failure("ERROR: No matching distribution found for httpx (from versions: none)")
    assert network_failure("go: example.com/m@v1: dial tcp: lookup proxy.golang.org: no such host")
    assert network_failure("Error: connect ECONNREFUSED 127.0.0.1:5432") is None  # a local service, not the network
    assert network_failure("1 failed, 3 passed") is None
    assert version_from("node --version", "v20.11.1\n") == ("node", "20.11.1")
    assert version_from("python3 --version", "Python 3.11.9") == ("python", "3.11.9")
    assert version_from("go version", "go version go1.22.3 linux/amd64") == ("go", "1.22.3")
    assert version_from("node app.js", "v20") is None


# ---------------------------------------------------------------------------------------------------------------
# Classification rules
# ---------------------------------------------------------------------------------------------------------------


def _classify(**kw: object) -> Contract:
    base: dict[str, object] = {
        "planned": "fix",
        "command": "pytest -q",
        "host_reason": None,
        "start_runs": [],
        "start_gaps": [],
        "strategy": "failed-check",
        "later_pass": None,
        "failure": None,
        "solution_complete": True,
        "has_solution_edits": True,
        "success": Run(9, 0),
    }
    base.update(kw)
    return classify(**base)  # type: ignore[arg-type]


def test_classification_rules() -> None:
    proven = _classify(start_runs=[Run(5, 1)], failure=Run(5, 1))
    assert (proven.cls, proven.evidence, proven.before, proven.after) == ("proven-fix", "recorded", "fails", "passes")
    assert "in exactly this start state" in proven.reason
    # the same failure, but an earlier `sed -i` cannot be replayed: the start state is not the recorded one
    gap = _classify(start_runs=[Run(5, 1)], failure=Run(5, 1), start_gaps=["sed -i (`sed -i x f` at event 3)"])
    assert gap.cls == "unproven" and "sed -i" in gap.reason and not gap.ok
    green = _classify(start_runs=[Run(5, 0)], strategy="last-success-check")
    assert (green.cls, green.evidence, green.before) == ("keep-green", "recorded", "passes") and green.ok
    flaky = _classify(start_runs=[Run(5, 1), Run(7, 0)])
    assert flaky.cls == "unproven" and "flaky" in flaky.reason
    later = _classify(strategy="later-success-check", later_pass=Run(9, 0))
    assert later.cls == "unproven" and "passed at event 9, after edits" in later.reason and "--execute" in later.reason
    interrupted = _classify(failure=Run(5, None))
    assert interrupted.cls == "unproven" and "did not finish" in interrupted.reason
    refused = _classify(host_reason="the check reads or changes the host's processes (`ps -ef`)")
    assert refused.cls == "refused" and "processes" in refused.reason and not refused.ok


def test_execution_proves_or_demotes() -> None:
    unproven = _classify(strategy="later-success-check", later_pass=Run(9, 0))
    proven = refine(unproven, before=0.0, after=1.0, has_solution=True)
    assert (proven.cls, proven.evidence) == ("proven-fix", "executed")
    demoted = refine(unproven, before=1.0, after=1.0, has_solution=True)
    assert (demoted.cls, demoted.evidence) == ("keep-green", "executed")
    stays = refine(unproven, before=0.0, after=0.0, has_solution=True)
    assert stays.cls == "unproven" and any("before and after" in n for n in stays.notes)
    recorded = _classify(start_runs=[Run(5, 1)], failure=Run(5, 1))
    # a local run that could not reproduce the recorded condition (no network) does not overrule the session
    kept = refine(recorded, before=1.0, after=1.0, has_solution=True, inconclusive="could not run without network")
    assert (kept.cls, kept.evidence) == ("proven-fix", "recorded") and "inconclusive" in kept.notes[0]
    assert Contract.from_json(proven.to_json()) == proven


# ---------------------------------------------------------------------------------------------------------------
# Real repositories
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture
def calc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    monkeypatch.setenv("PATH", python_on_path())
    return make_repo(tmp_path / "calc", {"calc.py": BUGGY_CALC, "tests/test_calc.py": TEST_CALC})


def _apply_patch(r: Rollout, body: str) -> None:
    """An apply_patch custom tool call with exactly ``body`` (the builder's patch() edits one line)."""
    cid = r.call_id()
    r.add(
        "response_item",
        {"type": "custom_tool_call", "status": "completed", "call_id": cid, "name": "apply_patch", "input": body},
    )
    r.add(
        "response_item",
        {
            "type": "custom_tool_call_output",
            "call_id": cid,
            "output": json.dumps(
                {
                    "output": "Success. Updated the following files:\nM calc.py\n",
                    "metadata": {"exit_code": 0, "duration_seconds": 0.1},
                }
            ),
        },
    )


def _git(commit: str) -> dict[str, str]:
    return {"commit_hash": commit, "branch": "main", "repository_url": "https://github.com/example/calc.git"}


def _meta(task: Path) -> dict:  # type: ignore[type-arg]
    return tomllib.loads((task / "task.toml").read_text())["metadata"]


async def test_proven_fix_recorded_then_executed(
    calc: tuple[Path, str], tmp_path: Path, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """The session ran the check in exactly the start state and it failed: a proven fix (recorded). --execute
    confirms it (fails before, passes after: executed), writes ccl-tui-check.json and the store row."""
    path, commit = calc
    r = Rollout(cwd=str(path), git=_git(commit))
    r.user("add() returns the wrong result; fix it")
    r.exec(PYTEST, "F.\nE   assert -1 == 5\n1 failed", 1)
    r.patch("calc.py", old="    return a - b", new="    return a + b")
    r.exec(PYTEST, "..\n2 passed", 0)
    r.complete()
    r.write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    issue = next(i for i in await store.issues() if i.kind == "command_failure")
    result = await write_task_for_issue(store, issue.id, tmp_path / "tasks")
    assert result.contract is not None and result.contract.label() == "proven fix (recorded)", result.contract
    assert result.flavour == "fix"
    meta = _meta(result.path)
    assert meta["task_flavour"] == "fix" and meta["contract"]["class"] == "proven-fix"
    assert meta["contract"]["evidence"] == "recorded" and meta["contract"]["before"] == "fails"
    assert meta["verifier"]["expect_fail_before_solution"] is True
    assert "It fails now: the session recorded it failing" in (result.path / "instruction.md").read_text()

    db = str(tmp_path / "test.sqlite")  # the store fixture's database
    args = cli_parser().parse_args(["tasks", "check", str(result.path), "--execute", "--json", "--db", db])
    code = await asyncio.to_thread(args.func, args)  # the CLI runs its own event loop
    out = json.loads(capsys.readouterr().out)
    assert code == 0, out
    (task,) = out["tasks"]
    assert (task["class"], task["evidence"], task["ok"]) == ("proven-fix", "executed", True), task
    assert (task["reward_before"], task["reward_after"]) == (0.0, 1.0)
    assert out["counts"] == {"proven-fix": 1, "keep-green": 0, "unproven": 0, "refused": 0}
    assert out["proven_fix"] == 1 and "recorded 1 outcome" in out["store"]
    record = json.loads((result.path / CHECK_RECORD).read_text())
    assert record["contract"]["class"] == "proven-fix" and record["planned"]["evidence"] == "recorded"
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT task_name, class, evidence, planned_class, reward_before, reward_after FROM task_checks"
    ).fetchall()
    con.close()
    assert rows == [(result.name, "proven-fix", "executed", "proven-fix", 0.0, 1.0)]
    # a later check without --execute reports the recorded outcome
    (again,) = check_path(result.path)
    assert (again.klass, again.evidence, again.ok) == ("proven-fix", "executed", True)
    require_harbor()
    assert again.valid is True, again.problems  # ccl-tui-check.json beside task.toml keeps the task valid


async def test_unproven_fix_is_proven_by_execute(calc: tuple[Path, str], tmp_path: Path, store: Store) -> None:
    """The session never ran the check before editing (later-success-check): unproven, not exported unless
    asked, never ok; --execute runs it: it fails before and passes after, so it becomes a proven fix."""
    path, commit = calc
    r = Rollout(cwd=str(path), git=_git(commit))
    r.user("add() returns the wrong result; fix it")
    r.exec("cat calc_helpers.py", "cat: calc_helpers.py: No such file or directory", 1)
    r.exec("cat calc_helpers.py", "", 0)
    r.patch("calc.py", old="    return a - b", new="    return a + b")
    r.exec(PYTEST, "..\n2 passed", 0)
    r.complete()
    r.write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    report = await export_tasks(store, tmp_path / "ds", 5)
    assert report.tasks == [] and report.counts()["proven-fix"] == 0
    (skip,) = [s for s in report.skipped if s.get("class") == "unproven"]
    assert "never ran" in skip["reason"] and "--include-unproven" in skip["reason"]
    report = await export_tasks(store, tmp_path / "ds", 5, include_unproven=True)
    (task,) = report.tasks
    assert task.flavour == "unproven" and task.contract is not None and task.contract.cls == "unproven"
    assert _meta(task.path)["task_flavour"] == "unproven"
    manifest = json.loads((tmp_path / "ds" / MANIFEST).read_text())
    assert manifest["counts"]["unproven"] == 1 and manifest["tasks"][0]["class"] == "unproven"
    (checked,) = check_path(task.path)
    assert checked.klass == "unproven" and not checked.ok and checked.valid_ok  # valid, but never ok
    (ran,) = check_path(task.path, run=True)
    assert (ran.reward_before, ran.reward_after) == (0.0, 1.0), ran.note
    assert (ran.klass, ran.evidence, ran.ok) == ("proven-fix", "executed", True)
    manifest_again = await export_tasks(store, tmp_path / "ds", 5, include_unproven=True)
    assert manifest_again.tasks == []  # already there
    entry = json.loads((tmp_path / "ds" / MANIFEST).read_text())["tasks"][0]
    assert (entry["class"], entry["planned_class"], entry["checked"]) == ("proven-fix", "unproven", True)


async def test_check_passing_at_the_start_becomes_keep_green(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session ran the check before its edits and it passed: keep-green (recorded). Exported only with
    --include-keep-green, labelled keep-green in the name, title, instruction, task.toml and manifest."""
    monkeypatch.setenv("PATH", python_on_path())
    path, commit = make_repo(tmp_path / "calc", {"calc.py": FIXED_CALC, "tests/test_calc.py": TEST_CALC})
    r = Rollout(cwd=str(path), git=_git(commit))
    r.user("write add() as b + a")
    r.exec(PYTEST, "..\n2 passed", 0)
    r.patch("calc.py", old="    return a + b", new="    return b + a")
    r.exec(PYTEST, "..\n2 passed", 0)
    r.assistant("Done; tests pass.")
    r.complete()
    r.write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    plain = await export_tasks(store, tmp_path / "ds", 5)
    assert plain.tasks == []
    report = await export_tasks(store, tmp_path / "ds", 5, include_keep_green=True)
    (task,) = report.tasks
    c = task.contract
    assert c is not None and (c.cls, c.evidence, c.before) == ("keep-green", "recorded", "passes"), c
    assert task.flavour == "keep-green" and "keep-green" in task.name
    text = (task.path / "instruction.md").read_text()
    assert text.startswith("# Keep green:") and "This is a keep-green task" in text
    meta = _meta(task.path)
    assert meta["task_flavour"] == "keep-green" and meta["category"] == "codex-keep-green"
    assert meta["verifier"]["expect_fail_before_solution"] is False
    assert json.loads((tmp_path / "ds" / MANIFEST).read_text())["counts"]["keep-green"] == 1
    (ran,) = check_path(task.path, run=True)
    assert (ran.klass, ran.evidence, ran.reward_before, ran.ok) == ("keep-green", "executed", 1.0, True), ran.note


async def test_unproven_check_that_passes_at_the_start_is_demoted(
    calc: tuple[Path, str], tmp_path: Path, store: Store
) -> None:
    """An unproven fix task whose check already passes at the start: --execute demotes it to keep-green."""
    path, commit = calc
    r = Rollout(cwd=str(path), git=_git(commit))
    r.user("fix the mul test")
    r.exec("cat notes.md", "cat: notes.md: No such file or directory", 1)
    r.exec("cat notes.md", "", 0)
    r.patch("calc.py", old="    return a * b", new="    return b * a")
    r.exec("python -m pytest -q -p no:cacheprovider tests/test_calc.py -k mul", "1 passed", 0)
    r.complete()
    r.write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    report = await export_tasks(store, tmp_path / "ds", 5, include_unproven=True)
    (task,) = report.tasks
    assert task.contract is not None and task.contract.cls == "unproven"
    (ran,) = check_path(task.path, run=True)
    assert (ran.klass, ran.evidence) == ("keep-green", "executed"), ran
    assert "already passed before the solution" in ran.reason


async def test_host_dependent_check_is_refused(tmp_path: Path, store: Store) -> None:
    """A check on the host's processes or a local server is no task: refused with the reason, by `task`,
    `tasks export` (listed apart) and `tasks check` (a check.sh edited to depend on the host)."""
    r = Rollout(start="2026-10-07T09:00:00", cwd="/w/api")
    r.user("make sure the api service runs")
    r.exec("systemctl --user status api.service", "Unit api.service could not be found.", 4)
    r.patch("deploy/api.service", old="a", new="b")
    r.exec("systemctl --user status api.service", "active (running)", 0)
    r.complete()
    r2 = Rollout(start="2026-10-08T09:00:00", cwd="/w/web")
    r2.user("the health endpoint must answer")
    r2.exec("curl -sf http://localhost:3000/health", "curl: (7) Failed to connect to localhost port 3000", 7)
    r2.patch("server.js", old="a", new="b")
    r2.exec("curl -sf http://localhost:3000/health", "ok", 0)
    r2.complete()
    for x in (r, r2):
        x.write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    for x, why in ((r, "processes"), (r2, "network endpoint")):
        (sig,) = await store.signals(x.id, kinds=["command_failure"])
        with pytest.raises(TaskRefused) as info:
            await write_task_for_signal(store, x.id, sig.seq, tmp_path / "tasks")
        assert why in info.value.reason
    report = await export_tasks(store, tmp_path / "ds", 5)
    assert report.tasks == [] and len(report.refused) == 2
    assert all(e["class"] == "refused" and e["reason"].startswith("the check ") for e in report.refused)
    manifest = json.loads((tmp_path / "ds" / MANIFEST).read_text())
    assert manifest["counts"]["refused"] == 2 and len(manifest["refused"]) == 2


async def test_a_check_edited_to_depend_on_the_host_is_refused_by_tasks_check(
    calc: tuple[Path, str], tmp_path: Path, store: Store
) -> None:
    path, commit = calc
    r = Rollout(cwd=str(path), git=_git(commit))
    r.user("fix add()")
    r.exec(PYTEST, "1 failed", 1)
    r.patch("calc.py", old="    return a - b", new="    return a + b")
    r.exec(PYTEST, "2 passed", 0)
    r.complete()
    r.write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    (sig,) = await store.signals(r.id, kinds=["command_failure"])
    task = (await write_task_for_signal(store, r.id, sig.seq, tmp_path / "tasks")).path
    (task / "tests" / "check.sh").write_text("#!/usr/bin/env bash\n[ $(date +%s) -gt 0 ] && " + PYTEST + "\n")
    (report,) = check_path(task, run=True)
    assert report.klass == "refused" and "current time" in report.reason and not report.executed
    assert not report.ok and not (task / CHECK_RECORD).exists()


async def test_heredoc_and_shell_apply_patch_and_shell_writes_are_replayed(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before the failure the session edited files in every way Codex records: apply_patch through the shell
    as a heredoc (after `cd DIR &&`), through the shell tool's argv, and files written with `cat > f <<EOF`,
    `cat <<EOF > f`, `printf … > f`, `echo … >> f` and `tee`. The task's start state holds them all."""
    monkeypatch.setenv("PATH", python_on_path())
    path, commit = make_repo(
        tmp_path / "mono",
        {
            "README.md": "mono\n",
            "pkg/calc.py": BUGGY_CALC,
            "pkg/tests/test_calc.py": TEST_CALC,
            "pkg/config.ini": "[old]\n",
        },
    )
    cwd = str(path / "pkg")
    r = Rollout(cwd=cwd, git=_git(commit))
    r.user("add sub() with a test, and the settings file")
    # 1. apply_patch as a heredoc through exec_command, after `cd tests &&` (paths relative to tests/)
    r.exec(
        "cd tests && apply_patch <<'PATCH'\n*** Begin Patch\n*** Add File: test_sub.py\n+from calc import sub\n+\n+\n"
        "+def test_sub():\n+    assert sub(5, 3) == 2\n*** End Patch\nPATCH",
        "Success. Updated the following files:\nA test_sub.py\n",
        0,
    )
    # 2. apply_patch through the shell tool's argv (2025 shell tool: ["apply_patch", "<patch>"])
    cid = "call_argv_patch"
    r.add(
        "response_item",
        {
            "type": "function_call",
            "name": "shell",
            "call_id": cid,
            "arguments": json.dumps(
                {
                    "command": [
                        "apply_patch",
                        "*** Begin Patch\n*** Update File: README.md\n@@\n-mono\n+mono repo\n*** End Patch\n",
                    ],
                    "workdir": str(path),
                }
            ),
        },
    )
    r.add(
        "response_item",
        {
            "type": "function_call_output",
            "call_id": cid,
            "output": json.dumps(
                {
                    "output": "Success. Updated the following files:\nM README.md\n",
                    "metadata": {"exit_code": 0, "duration_seconds": 0.1},
                }
            ),
        },
    )
    # 3. files written by shell redirections, with their content in the log
    r.exec('mkdir -p settings && cat > settings/app.toml <<\'EOF\'\nname = "calc"\nhome = "$HOME"\nEOF', "", 0)
    r.exec("cd settings && cat <<EOF > limits.txt\nmax=10\nEOF", "", 0)
    r.exec("printf '%s\\n' alpha beta > words.txt && echo gamma >> words.txt", "", 0)
    r.exec("tee config.ini <<'EOF'\n[new]\nkey = 1\nEOF", "[new]\nkey = 1\n", 0)
    r.exec("echo scratch > /tmp/ccl-scratch.txt", "", 0)  # outside the repository: not part of its state
    check = "python -m pytest -q -p no:cacheprovider tests"
    r.exec(check, "E   ImportError: cannot import name 'sub' from 'calc'\n1 error", 2)
    _apply_patch(
        r,
        "*** Begin Patch\n*** Update File: calc.py\n@@\n     return a * b\n+\n+\n+def sub(a, b):\n"
        "+    return a - b\n*** End Patch\n",
    )
    r.exec(check, "1 failed, 2 passed", 1)  # add() is still wrong: the check keeps failing
    r.patch("calc.py", old="    return a - b", new="    return a + b")
    r.exec(check, "4 passed", 0)
    r.complete()
    r.write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    sig = next(s for s in await store.signals(r.id, kinds=["command_failure"]) if s.seq < 60)
    result = await write_task_for_signal(store, r.id, sig.seq, tmp_path / "tasks")
    task = result.path
    meta = _meta(task)
    assert meta["environment"]["setup_edits"] == 6 and meta["environment"]["setup_shell_writes"] == 4, (
        meta["notes"],
        meta["contract"],
        meta["environment"]["start_gaps"],
        meta["verifier"],
    )
    assert meta["environment"]["start_gaps"] == [], meta["environment"]["start_gaps"]
    assert result.contract is not None and result.contract.label() == "proven fix (recorded)", result.contract
    assert (task / "environment" / "setup-overwritten.txt").read_text().splitlines() == [
        "pkg/settings/app.toml",
        "pkg/settings/limits.txt",
        "pkg/words.txt",
        "pkg/config.ini",
    ]
    app = tmp_path / "prepared" / "app"
    prepare_repo(task, app)
    assert (app / "pkg/tests/test_sub.py").read_text().endswith("assert sub(5, 3) == 2\n")
    assert (app / "README.md").read_text() == "mono repo\n"
    assert (app / "pkg/settings/app.toml").read_text() == 'name = "calc"\nhome = "$HOME"\n'
    assert (app / "pkg/settings/limits.txt").read_text() == "max=10\n"
    assert (app / "pkg/words.txt").read_text() == "alpha\nbeta\ngamma\n"
    assert (app / "pkg/config.ini").read_text() == "[new]\nkey = 1\n"  # replaced whole, not patched
    assert (app / "pkg/calc.py").read_text() == BUGGY_CALC  # the solution is not part of the start state
    (ran,) = check_path(task, run=True)
    assert (ran.reward_before, ran.reward_after, ran.klass) == (0.0, 1.0, "proven-fix"), ran.note


async def test_unreplayable_edit_before_the_failure_makes_it_unproven(
    calc: tuple[Path, str], tmp_path: Path, store: Store
) -> None:
    path, commit = calc
    r = Rollout(cwd=str(path), git=_git(commit))
    r.user("fix add()")
    r.exec("sed -i 's/a \\* b/b * a/' calc.py", "", 0)
    r.exec(PYTEST, "1 failed", 1)
    r.patch("calc.py", old="    return a - b", new="    return a + b")
    r.exec(PYTEST, "2 passed", 0)
    r.complete()
    r.write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    (sig,) = await store.signals(r.id, kinds=["command_failure"])
    result = await write_task_for_signal(store, r.id, sig.seq, tmp_path / "tasks")
    c = result.contract
    assert c is not None and c.cls == "unproven" and "sed -i" in c.reason, c
    assert "sed -i" in " ".join(_meta(result.path)["environment"]["start_gaps"])


async def test_network_failure_task_has_no_network(tmp_path: Path, store: Store) -> None:
    """`npm install` failed with EAI_AGAIN: the task's environment has no network (Harbor's task network
    policy), the metadata and the instruction say so, and the recorded tool versions pin the base image."""
    r = Rollout(start="2026-10-02T09:00:00", cwd="/w/web")
    r.user("install deps and build")
    r.exec("node --version", "v20.11.1\n", 0)
    r.exec(
        "npm install",
        "npm ERR! code EAI_AGAIN\nnpm ERR! errno EAI_AGAIN\nnpm ERR! request to"
        " https://registry.npmjs.org/left-pad failed, reason: getaddrinfo EAI_AGAIN"
        " registry.npmjs.org",
        1,
    )
    r.exec("npm install", "added 120 packages", 0)
    r.complete()
    r.write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    (sig,) = await store.signals(r.id, kinds=["command_failure"])
    result = await write_task_for_signal(store, r.id, sig.seq, tmp_path / "tasks")
    assert result.network_mode == "no-network" and result.contract is not None
    assert result.contract.cls == "proven-fix"
    doc = tomllib.loads((result.path / "task.toml").read_text())
    assert doc["environment"]["network_mode"] == "no-network"
    env = doc["metadata"]["environment"]
    assert env["network_mode"] == "no-network" and "EAI_AGAIN" in env["network_reason"]
    assert env["tool_versions"]["node"] == "20.11.1" and env["tool_versions"]["codex_cli"] == "0.125.0"
    assert env["base_image"] == "node:20-bookworm-slim"
    assert "FROM node:20-bookworm-slim" in (result.path / "environment" / "Dockerfile").read_text()
    assert "no network access" in (result.path / "instruction.md").read_text()
    require_harbor()
    from harbor.models.task.config import NetworkMode
    from harbor.models.task.task import Task

    assert Task(result.path).config.environment.network_mode == NetworkMode.NO_NETWORK
    assert result.valid is True, result.problems


async def test_execute_runs_a_no_network_task_without_network(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recorded failure was a network failure: --execute runs the verifier without network (unshare -rn)
    where the machine allows it, so the failure reproduces even on a machine with network."""
    if not RunOptions().can_unshare():
        pytest.skip("this machine cannot run a command without network (unshare -rn)")
    monkeypatch.setenv("PATH", python_on_path())
    probe = 'python -c "import socket, sys; sys.exit(0 if len(socket.if_nameindex()) > 1 else 1)"'
    path, commit = make_repo(tmp_path / "svc", {"README.md": "svc\n"})
    r = Rollout(cwd=str(path), git=_git(commit))
    r.user("fetch the dependencies")
    r.exec(probe, "getaddrinfo EAI_AGAIN registry.npmjs.org", 1)
    r.exec(probe, "", 0)
    r.complete()
    r.write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    (sig,) = await store.signals(r.id, kinds=["command_failure"])
    result = await write_task_for_signal(store, r.id, sig.seq, tmp_path / "tasks")
    assert result.network_mode == "no-network"
    (ran,) = check_path(result.path, run=True)
    assert ran.network_isolated is True and ran.reward_before == 0.0, ran
    assert (ran.klass, ran.evidence) == ("proven-fix", "recorded")  # no solution: the recorded proof stands


async def test_clone_is_opt_in_and_fails_clearly_offline(calc: tuple[Path, str], tmp_path: Path, store: Store) -> None:
    path, commit = calc
    r = Rollout(
        cwd=str(path),
        git={
            "commit_hash": commit,
            "branch": "main",
            "repository_url": "https://ccl-tui-test.invalid/example/calc.git",
        },
    )
    r.user("fix add()")
    r.exec(PYTEST, "1 failed", 1)
    r.patch("calc.py", old="    return a - b", new="    return a + b")
    r.exec(PYTEST, "2 passed", 0)
    r.complete()
    r.write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    (sig,) = await store.signals(r.id, kinds=["command_failure"])
    result = await write_task_for_signal(store, r.id, sig.seq, tmp_path / "tasks", allow_local=False)
    assert result.environment_mode == "clone"
    (plain,) = check_path(result.path, run=True)
    assert not plain.executed and "--clone fetches" in plain.note
    (cloned,) = check_path(result.path, run=True, opts=RunOptions(clone=True, clone_timeout=30))
    assert not cloned.executed and "cannot fetch" in cloned.note, cloned.note
    assert (cloned.klass, cloned.evidence) == ("proven-fix", "recorded")  # not executed: the plan stands


async def test_clone_at_the_commit_when_the_url_is_reachable(
    calc: tuple[Path, str], tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--clone fetches the recorded commit (here from a local bare repository served through git's http
    rewrite), builds the start state from it and runs the verifier."""
    path, commit = calc
    bare = tmp_path / "served.git"
    shutil.copytree(path / ".git", bare)
    url = "https://git.example.org/example/calc.git"
    cfg = tmp_path / "gitconfig"
    cfg.write_text(f'[url "file://{bare}"]\n\tinsteadOf = {url}\n[protocol "file"]\n\tallow = always\n')
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(cfg))
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "https:http:file")
    r = Rollout(cwd=str(path), git={"commit_hash": commit, "branch": "main", "repository_url": url})
    r.user("fix add()")
    r.exec(PYTEST, "1 failed", 1)
    r.patch("calc.py", old="    return a - b", new="    return a + b")
    r.exec(PYTEST, "2 passed", 0)
    r.complete()
    r.write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    (sig,) = await store.signals(r.id, kinds=["command_failure"])
    result = await write_task_for_signal(store, r.id, sig.seq, tmp_path / "tasks", allow_local=False)
    assert result.environment_mode == "clone"
    (ran,) = check_path(result.path, run=True, opts=RunOptions(clone=True, clone_timeout=60))
    assert ran.executed, ran.note
    assert (ran.reward_before, ran.reward_after, ran.klass, ran.evidence) == (0.0, 1.0, "proven-fix", "executed")


async def test_locked_dependencies_are_installed_best_effort(
    calc: tuple[Path, str], tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lockfile triggers its installer before the run; a failure is reported, never fatal."""
    path, commit = make_repo(
        tmp_path / "calc2",
        {
            "calc.py": BUGGY_CALC,
            "tests/test_calc.py": TEST_CALC,
            "package.json": '{"name": "x", "version": "0.0.0"}\n',
            "package-lock.json": '{"lockfileVersion": 3, "packages": {}}\n',
        },
    )
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "npm").write_text("#!/bin/sh\necho 'npm ERR! code EAI_AGAIN' >&2\nexit 1\n")
    (fake / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:{python_on_path()}")
    r = Rollout(cwd=str(path), git=_git(commit))
    r.user("fix add()")
    r.exec(PYTEST, "1 failed", 1)
    r.patch("calc.py", old="    return a - b", new="    return a + b")
    r.exec(PYTEST, "2 passed", 0)
    r.complete()
    r.write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    (sig,) = await store.signals(r.id, kinds=["command_failure"])
    task = (await write_task_for_signal(store, r.id, sig.seq, tmp_path / "tasks")).path
    (ran,) = check_path(task, run=True)
    assert [(s["command"], s["status"]) for s in ran.install] == [("npm ci", "failed")]
    assert "EAI_AGAIN" in ran.install[0]["detail"]
    assert (ran.reward_before, ran.reward_after, ran.klass) == (0.0, 1.0, "proven-fix")
    (skipped,) = check_path(task, run=True, opts=RunOptions(install=False))
    assert skipped.install == [] and skipped.klass == "proven-fix"


async def test_store_keeps_the_latest_check_per_task(tmp_path: Path) -> None:
    from ccl_tui.store.schema import SCHEMA_VERSION
    from ccl_tui.store.task_checks import save_task_checks, task_checks

    store = await Store.open(tmp_path / "s.sqlite")
    try:
        assert await store.schema_version() == SCHEMA_VERSION >= 8
        rows = [
            {
                "checked_at": f"2026-10-0{i}T00:00:00Z",
                "task_name": "t",
                "task_path": "/d/t",
                "issue_id": "I-1",
                "class": cls,
                "evidence": "executed",
                "planned_class": "unproven",
                "reason": "r",
                "reward_before": b,
                "reward_after": 1.0,
                "reproducible": True,
                "detail": {"install": []},
            }
            for i, (cls, b) in enumerate((("keep-green", 1.0), ("proven-fix", 0.0)), start=1)
        ]
        assert await save_task_checks(store.db, rows) == 2
        (latest,) = await task_checks(store.db)
        assert (latest["class"], latest["reward_before"], latest["reproducible"]) == ("proven-fix", 0.0, True)
        assert len(await task_checks(store.db, latest=False, issue_id="I-1")) == 2
    finally:
        await store.close()


def test_contract_constants_are_the_ones_reported() -> None:
    assert contract.CLASSES == ("proven-fix", "keep-green", "unproven", "refused")
