"""The runnable episode: its check really fails at each session's recorded commit, prints what the session
recorded, and passes after the session's own patches; the sessions form one issue in the demo's top ten."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ccl_tui.demo import episode, gitrepos
from ccl_tui.demo.generate import DEFAULT_SEED, DEFAULT_SESSIONS
from ccl_tui.demo.plan import SessionPlan
from ccl_tui.pipeline import ranked_issues
from ccl_tui.signals.session_view import SessionView
from ccl_tui.store.db import Store
from ccl_tui.tasks.diffs import GIT_APPLY_ARGS, diff_of
from ccl_tui.tasks.select import patch_refs
from tests.tui_support import DEMO

RAN = re.compile(r"^(Ran \d+ tests? in )\d+\.\d+s$", re.MULTILINE)
PLANS = episode.plans(DEFAULT_SEED, DEFAULT_SESSIONS)


def _normalised(text: str) -> str:
    return RAN.sub(r"\g<1>T", text)


def _checkout(bundle: Path, commit: str, dest: Path) -> Path:
    """The repository at ``commit``, cloned from the shipped bundle (no network)."""
    env = gitrepos.git_env()
    subprocess.run(["git", "clone", "--quiet", "--template=", str(bundle), str(dest)], env=env, check=True)
    subprocess.run(
        ["git", "-c", "advice.detachedHead=false", "checkout", "--quiet", commit], cwd=dest, env=env, check=True
    )
    return dest


def _run(command: str, cwd: Path, python: str) -> subprocess.CompletedProcess[str]:
    """The recorded command, as a shell runs it, with ``python3`` being ``python``."""
    bindir = cwd.parent / f"bin-{cwd.name}"
    bindir.mkdir(exist_ok=True)
    link = bindir / "python3"
    if not link.exists():
        link.symlink_to(python)
    env = {"PATH": f"{bindir}{os.pathsep}/usr/bin:/bin", "LC_ALL": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_episode_is_five_sessions_in_two_repositories_by_several_developers() -> None:
    assert 3 <= len(PLANS) <= 5
    assert len({p.repo.name for p in PLANS}) >= 2
    assert len({p.dev.name for p in PLANS}) >= 3 and len({p.day for p in PLANS}) == len(PLANS)
    assert [p.index for p in PLANS] == list(range(DEFAULT_SESSIONS, DEFAULT_SESSIONS + len(PLANS)))
    files = {p.name for p in DEMO.rglob("rollout-*")}
    for p in PLANS:
        assert any(p.session_id in name for name in files), p.session_id


async def test_each_check_fails_at_the_commit_and_passes_after_the_sessions_patches(
    demo_db: Path, tmp_path: Path
) -> None:
    store = await Store.open(demo_db)
    recorded = []
    try:
        for plan in PLANS:
            bug = episode.BUGS[plan.repo.name]
            session = await store.session(plan.session_id)
            assert session is not None and session.git_commit == plan.commit
            view = SessionView(session.id, await store.events(plan.session_id), session.origin)
            checks = [c for c in view.calls if c.command == bug.check]
            patches = [diff_of(ref, session.cwd).text for ref in patch_refs(view)]
            assert [c.exit_code for c in checks] == [1, 1, 0] and len(patches) == 2
            recorded.append((plan, session.cwd or "", [c.output for c in checks], patches))
    finally:
        await store.close()
    for plan, cwd, outputs, patches in recorded:
        _rerun(plan, cwd, outputs, patches, tmp_path)


def _rerun(plan: SessionPlan, cwd: str, outputs: list[str], patches: list[str], tmp_path: Path) -> None:
    """Check out the recorded commit from the shipped bundle, run the check, apply the session's own patches (as
    ccl-tui's task writer rebuilds them) one by one, run it again: the same outputs, failing, failing, passing."""
    bug = episode.BUGS[plan.repo.name]
    repo = _checkout(DEMO / "repos" / f"{plan.repo.name}.bundle", plan.commit, tmp_path / plan.session_id)
    codes = []
    for step in range(3):
        if step:
            (tmp_path / "edit.patch").write_text(patches[step - 1])
            subprocess.run(["git", *GIT_APPLY_ARGS, str(tmp_path / "edit.patch")], cwd=repo, check=True)
        proc = _run(bug.check, repo, sys.executable)
        codes.append(proc.returncode)
        printed = (proc.stdout + proc.stderr).replace(str(repo), cwd)
        assert _normalised(printed) == _normalised(outputs[step]), (plan.session_id, step)
    assert codes[0] != 0 and codes[1] != 0 and codes[2] == 0, codes


def _interpreter(version: str) -> str | None:
    """The executable of an installed Python ``version`` (on PATH or in pyenv), other than the running one."""
    names = [shutil.which(f"python{version}")]
    names += sorted(str(p) for p in Path("~/.pyenv/versions").expanduser().glob(f"{version}.*/bin/python{version}"))
    for name in filter(None, names):
        try:
            proc = subprocess.run(
                [name, "-c", "import sys; print('%d.%d' % sys.version_info[:2], sys.executable)"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except OSError:
            continue
        got, _, exe = proc.stdout.strip().partition(" ")
        if proc.returncode == 0 and got == version and Path(exe).resolve() != Path(sys.executable).resolve():
            return exe
    return None


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13"])
def test_the_recorded_output_does_not_depend_on_the_python_version(version: str, tmp_path: Path) -> None:
    exe = _interpreter(version)
    if exe is None:
        pytest.skip(f"Python {version} is not installed besides the running interpreter")
    plan = PLANS[0]
    bug = episode.BUGS[plan.repo.name]
    repo = _checkout(DEMO / "repos" / f"{plan.repo.name}.bundle", plan.commit, tmp_path / "repo")
    ours, theirs = _run(bug.check, repo, sys.executable), _run(bug.check, repo, exe)
    assert ours.returncode == theirs.returncode == 1
    assert _normalised(ours.stderr) == _normalised(theirs.stderr)


async def test_the_episode_is_one_issue_in_the_top_ten(demo_db: Path) -> None:
    store = await Store.open(demo_db)
    try:
        issues = await ranked_issues(store)
    finally:
        await store.close()
    issue = next(i for i in issues if i.signature == "unittest | AssertionError")
    assert issue.rank <= 10, (issue.rank, issue.impact)
    assert sorted(issue.session_ids) == sorted(p.session_id for p in PLANS)
    assert set(issue.repos) == {"billing-api", "etl-pipeline"}
