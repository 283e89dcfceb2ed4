"""The full loop on a real git repository made by the test, without Docker.

A session at a recorded commit runs a failing test, edits the code and the test passes. The generated task's
environment is a snapshot of that commit; its verifier fails there and passes after solution/solve.sh.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import tomllib
from pathlib import Path

import pytest

from ccl_tui.store.db import Store
from ccl_tui.tasks.api import write_task_for_issue, write_task_for_signal
from ccl_tui.tasks.check import check_command, check_path, outside_paths, run_env
from tests.builders import Rollout
from tests.conftest import require_harbor
from tests.tasks_helpers import BUGGY_CALC, PYTEST, TEST_CALC, git, make_repo, populated, python_on_path

SECRET = "sk-proj-" + "Qx7" * 12  # planted in the repository's .env: must never reach the task
BIG_BINARY = b"\x00\x01" * 200_000


def _session(cwd: Path, commit: str, era: str) -> Rollout:
    r = Rollout(
        cwd=str(cwd),
        era=era,
        git={"commit_hash": commit, "branch": "main", "repository_url": "https://github.com/example/calc.git"},
    )
    r.user("add() returns the wrong result; fix it so the tests pass")
    r.exec(PYTEST, "F.\nE   assert -1 == 5\nFAILED tests/test_calc.py::test_add - assert -1 == 5\n1 failed", 1)
    r.patch("calc.py", old="    return a - b", new="    return a + b")
    r.exec(PYTEST, "..\n2 passed in 0.01s", 0)
    r.assistant("Fixed add(); the tests pass.")
    r.complete()
    return r


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    return make_repo(
        tmp_path / "calc",
        {
            "calc.py": BUGGY_CALC,
            "tests/test_calc.py": TEST_CALC,
            "pyproject.toml": "[project]\nname = 'calc'\nversion = '0'\n",
            ".env": f"OPENAI_API_KEY={SECRET}\n",
            "deploy/id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
            "assets/blob.bin": BIG_BINARY,
            "notes/config.yaml": f"api_key: {SECRET}\nname: calc\n",
        },
    )


def _archive(task: Path) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress((task / "environment" / "repo.tar.gz").read_bytes()))) as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}  # type: ignore[union-attr]


@pytest.mark.parametrize("era", ["C", "B"])
async def test_failing_test_then_fix_is_reproducible(
    era: str, repo: tuple[Path, str], tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, commit = repo
    monkeypatch.setenv("PATH", python_on_path())
    _session(path, commit, era).write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    issues = await store.issues()
    issue = next(i for i in issues if i.kind == "command_failure")

    result = await write_task_for_issue(store, issue.id, tmp_path / "tasks")
    task = result.path
    assert result.environment_mode == "snapshot" and not result.needs_repository
    assert result.has_solution, result.solution_reason

    meta = tomllib.loads((task / "task.toml").read_text())["metadata"]
    assert meta["repository"]["commit"] == commit
    assert meta["environment"]["verified"] is True
    assert meta["verifier"]["strategy"] == "failed-check"
    assert meta["verifier"]["command"] == PYTEST
    assert meta["verifier"]["expect_fail_before_solution"] is True
    assert meta["solution"]["available"] is True and meta["solution"]["edits"] == 1
    assert meta["issue"]["id"] == issue.id and meta["source_session_ids"] == issue.session_ids
    excluded = " ".join(meta["environment"]["excluded_files"])
    assert ".env (secret file)" in excluded and "deploy/id_rsa (secret file)" in excluded
    assert "assets/blob.bin (large binary)" in excluded
    assert meta["environment"]["redacted_files"] == ["notes/config.yaml"]

    files = _archive(task)
    assert set(files) == {"calc.py", "tests/test_calc.py", "pyproject.toml", "notes/config.yaml"}
    assert files["calc.py"].decode() == BUGGY_CALC  # the recorded commit, not a later state
    assert SECRET.encode() not in b"".join(files.values())
    assert "return a + b" in (task / "solution" / "fix.patch").read_text()
    assert "return a + b" not in (task / "instruction.md").read_text()  # the fix never leaks

    (report,) = check_path(task, run=True)
    assert report.executed, report.note
    assert report.reward_before == 0.0, report.note
    assert report.reward_after == 1.0, report.note
    assert report.reproducible is True
    assert not report.script_errors
    require_harbor()
    assert report.valid is True, report.problems


async def test_verifier_fails_when_the_solution_is_wrong(
    repo: tuple[Path, str], tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The local proof can fail: a solution that does not fix the code is reported as not reproducible."""
    path, commit = repo
    monkeypatch.setenv("PATH", python_on_path())
    _session(path, commit, "C").write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    issue = next(i for i in await store.issues() if i.kind == "command_failure")
    task = (await write_task_for_issue(store, issue.id, tmp_path / "tasks")).path
    fix = task / "solution" / "fix.patch"
    fix.write_text(fix.read_text().replace("+    return a + b", "+    return a * b"))
    (report,) = check_path(task, run=True)
    assert report.reward_before == 0.0 and report.reward_after == 0.0
    assert report.reproducible is False


@pytest.mark.parametrize("absolute", [False, True], ids=["relative-check", "absolute-check"])
async def test_session_in_a_subdirectory_and_edits_before_the_failure(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch, absolute: bool
) -> None:
    """The session ran in pkg/ of a larger repository and wrote the failing test itself (TDD): the task starts
    with that test in place (setup.patch) and the verifier runs in pkg/. A check naming the absolute path of
    pkg/tests keeps the pkg/ under ${CCL_REPO_ROOT} (the repository root, not the session's cwd)."""
    path, commit = make_repo(
        tmp_path / "mono",
        {
            "README.md": "mono\n",
            "pkg/calc.py": "def add(a, b):\n    return a + b\n",
            "pkg/tests/test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
        },
    )
    monkeypatch.setenv("PATH", python_on_path())
    r = Rollout(cwd=str(path / "pkg"), git={"commit_hash": commit, "branch": "main", "repository_url": ""})
    r.user("add mul() with a test")
    r.add(
        "response_item",
        {
            "type": "custom_tool_call",
            "status": "completed",
            "call_id": "call_add_test",
            "name": "apply_patch",
            "input": (
                "*** Begin Patch\n*** Add File: tests/test_mul.py\n+from calc import mul\n+\n+\n+def test_mul():\n"
                "+    assert mul(2, 3) == 6\n*** End Patch\n"
            ),
        },
    )
    r.add(
        "response_item",
        {
            "type": "custom_tool_call_output",
            "call_id": "call_add_test",
            "output": '{"output": "Success. Updated the following files:\\nA tests/test_mul.py\\n",'
            ' "metadata": {"exit_code": 0, "duration_seconds": 0.1}}',
        },
    )
    check = "python -m pytest -q -p no:cacheprovider " + (f"{path / 'pkg'}/tests" if absolute else "tests")
    r.exec(check, "E   ImportError: cannot import name 'mul' from 'calc'\n1 error", 2)
    r.add(
        "response_item",
        {
            "type": "custom_tool_call",
            "status": "completed",
            "call_id": "call_fix",
            "name": "apply_patch",
            "input": (
                "*** Begin Patch\n*** Update File: calc.py\n@@ def add(a, b):\n     return a + b\n+\n+\n+def mul(a, b):\n"
                "+    return a * b\n*** End Patch\n"
            ),
        },
    )
    r.add(
        "response_item",
        {
            "type": "custom_tool_call_output",
            "call_id": "call_fix",
            "output": '{"output": "Success. Updated the following files:\\nM calc.py\\n",'
            ' "metadata": {"exit_code": 0, "duration_seconds": 0.1}}',
        },
    )
    r.exec(check, "..\n2 passed", 0)
    r.complete()
    r.write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    signals = await store.signals(r.id, kinds=["command_failure"])
    result = await write_task_for_signal(store, r.id, signals[0].seq, tmp_path / "tasks")
    task = result.path
    meta = tomllib.loads((task / "task.toml").read_text())["metadata"]
    assert meta["repository"]["cwd_prefix"] == "pkg"
    assert meta["verifier"]["workdir"] == "pkg"
    assert (task / "tests" / "workdir").read_text() == "pkg\n"
    assert "b/pkg/tests/test_mul.py" in (task / "environment" / "setup.patch").read_text()
    assert "b/pkg/calc.py" in (task / "solution" / "fix.patch").read_text()
    assert "WORKDIR /app/pkg" in (task / "environment" / "Dockerfile").read_text()
    if absolute:
        assert '"${CCL_REPO_ROOT}"/pkg/tests' in check_command(task)
    (report,) = check_path(task, run=True)
    assert (report.reward_before, report.reward_after, report.reproducible) == (0.0, 1.0, True), report.note


# ---------------------------------------------------------------------------------------------------------------
# `tasks check --execute` never touches the user's checkout, however the recorded check spells its directory
# ---------------------------------------------------------------------------------------------------------------

MARK = "made-by-check"


def _home_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, str]:
    """A checkout at ~/src/app of a home inside the test's directory (HOME points there)."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", python_on_path())
    app, commit = make_repo(home / "src" / "app", {"calc.py": BUGGY_CALC, "tests/test_calc.py": TEST_CALC})
    return home, app, commit


def _spelled_session(app: Path, commit: str, check: str) -> Rollout:
    r = Rollout(cwd=str(app), git={"commit_hash": commit, "branch": "main", "repository_url": ""})
    r.user("add() is wrong; fix it")
    r.exec(check, "E   assert -1 == 5\n1 failed", 1)
    r.patch("calc.py", old="    return a - b", new="    return a + b")
    r.exec(check, "2 passed", 0)
    r.complete()
    return r


def _untouched(app: Path) -> None:
    assert not (app / MARK).exists(), "the check ran in the user's checkout"
    assert git(app, "status", "--porcelain") == ""


SPELLINGS = {
    "tilde": "cd ~/src/app",
    "home-var": 'cd "$HOME/src/app"',
    "home-braces": "cd ${HOME}/src/app/",
    "double-slash": "cd {home}//src//app",
    "dot-dot": "cd {home}/src/../src/./app",
    "quoted": "cd '{home}/src/app'",
    "split-quotes": 'cd ~/"src"/app',
    "symlink": "cd {home}/app-link",
    "nested-shell": "bash -c 'cd ~/src/app && touch " + MARK + "-2' && cd ~/src/app",
}


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
async def test_execute_runs_in_the_copy_for_every_spelling(
    spelling: str, tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, app, commit = _home_repo(tmp_path, monkeypatch)
    (home / "app-link").symlink_to(app)
    cd = SPELLINGS[spelling].replace("{home}", str(home))
    check = f"{cd} && touch {MARK} && {PYTEST}"
    _spelled_session(app, commit, check).write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    (sig,) = await store.signals(kinds=["command_failure"])
    task = (await write_task_for_signal(store, sig.session_id, sig.seq, tmp_path / "tasks")).path
    written = check_command(task)  # tests/check.sh without its comment header
    assert str(home) not in written and "~/src" not in written and "$HOME" not in written, written
    (report,) = check_path(task, run=True)
    _untouched(app)
    assert not (app / f"{MARK}-2").exists()
    assert (report.reward_before, report.reward_after, report.reproducible) == (0.0, 1.0, True), report.note


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
async def test_execute_refuses_a_check_that_still_points_at_the_checkout(
    spelling: str, tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task written before paths were rewritten (or edited by hand) names the real checkout: never run."""
    home, app, commit = _home_repo(tmp_path, monkeypatch)
    (home / "app-link").symlink_to(app)
    _spelled_session(app, commit, PYTEST).write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    (sig,) = await store.signals(kinds=["command_failure"])
    task = (await write_task_for_signal(store, sig.session_id, sig.seq, tmp_path / "tasks")).path
    cd = SPELLINGS[spelling].replace("{home}", str(home))
    (task / "tests" / "check.sh").write_text(f"#!/usr/bin/env bash\n{cd} && touch {MARK} && {PYTEST}\n")
    (report,) = check_path(task, run=True)
    _untouched(app)
    assert not report.executed and report.reward_before is None, report.note
    assert "outside its temporary copy" in report.note and str(app) in report.note, report.note


@pytest.mark.parametrize(
    "command",
    [
        "touch {outside}",
        "echo x > {outside}",
        "cd ../../../.. && touch {name}",
        'python -c \'open("{outside}", "w")\'',
        "cat <<'EOF' > /dev/null\n{outside}\nEOF",
        "OUT={outside} && touch $OUT",
        "pytest --junitxml={outside}",
        "touch ~/{name}",
    ],
)
def test_outside_paths_are_found(command: str, tmp_path: Path) -> None:
    tmp, app = tmp_path / "run", tmp_path / "run" / "app"
    (app / "pkg").mkdir(parents=True)
    outside = tmp_path / "elsewhere" / "file"
    found = outside_paths(
        command.format(outside=outside, name="file"),
        tmp=tmp,
        app=app,
        workdir=app / "pkg",
        env={"PATH": "/usr/bin"},
        home=str(tmp_path / "realhome"),
    )
    assert found, command


@pytest.mark.parametrize(
    "command",
    [
        PYTEST,
        'cd "${CCL_REPO_ROOT}" && pytest -q 2>/dev/null',
        "cd .. && python -m pytest tests/../tests",
        "/usr/bin/env python -m pytest --basetemp=$TMPDIR/x",
        "echo 'https://example.com/a/b' && curl http://localhost:8000/health",
        "PATH=$PATH:node_modules/.bin npm test",
        "go test ./... && cargo test --manifest-path ./Cargo.toml",
    ],
)
def test_paths_inside_the_copy_are_allowed(command: str, tmp_path: Path) -> None:
    tmp, app = tmp_path / "run", tmp_path / "run" / "app"
    (app / "pkg").mkdir(parents=True)
    env = run_env(tmp, app)
    assert outside_paths(command, tmp=tmp, app=app, workdir=app / "pkg", env=env, home=str(tmp_path)) == []


def test_verifier_environment_is_confined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLDPWD", "/home/me/src/app")
    monkeypatch.setenv("CDPATH", "/home/me/src")
    monkeypatch.setenv("XDG_CACHE_HOME", "/home/me/.cache")
    env = run_env(tmp_path, tmp_path / "app")
    assert env["HOME"] == str(tmp_path / "home") and env["TMPDIR"] == str(tmp_path / "tmp")
    assert env["CCL_REPO_ROOT"] == str(tmp_path / "app")
    assert not {"OLDPWD", "CDPATH", "XDG_CACHE_HOME"} & set(env)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("cd ~/src/app && pytest", "CD {copy}"),
        ('cd "$HOME/src/app/tests"', "CD {copy}/tests"),
        ("cd ${HOME}/src/app/", "CD {copy}"),
        ("cd /h/me//src/app", "CD {copy}"),
        ("cd /h/me/x/../src/./app", "CD {copy}"),
        ("cd '/h/me/src/app'/tests", "CD {copy}/tests"),
        ('cd ~/"src/app"/tests', "CD {copy}/tests"),
        ("bash -c 'echo ~/src/app/x'", "{copy}/x"),
        ("pytest --rootdir=/h/me/src/app -q", "pytest --rootdir={copy} -q"),
        ("PYTHONPATH=/h/me/src/app:/opt/x sh -c 'echo $PYTHONPATH'", "{copy}:/opt/x"),
        ("cat <<EOF\n$HOME/src/app/y\nEOF", "{copy}/y"),
        (
            "echo /h/me/src/app2 /h/me/src/apple https://x.org/h/me/src/app",
            "/h/me/src/app2 /h/me/src/apple https://x.org/h/me/src/app",
        ),
    ],
)
def test_portable_command_rewrites_every_spelling(
    command: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    from ccl_tui.tasks.paths import portable_command

    monkeypatch.setenv("HOME", "/h/me")
    rewritten = portable_command(command, "/h/me/src/app")
    shown = rewritten.replace("cd ", "echo CD ").replace("pytest", "echo pytest")
    copy = str(tmp_path / "copy with space")
    out = subprocess.run(
        ["bash", "-c", shown],
        env={"CCL_REPO_ROOT": copy, "HOME": "/elsewhere", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    assert out.strip().splitlines()[0] == expected.format(copy=copy), rewritten
