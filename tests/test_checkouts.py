"""Finding a session's repository when its recorded cwd is gone: checkouts and bundles under configured roots
(real temporary git repositories), and, with the proposed hook in probe_local, runnable demo tasks."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ccl_tui.demo import episode
from ccl_tui.tasks import checkouts
from ccl_tui.tasks.check import check_task, prepare_repo
from ccl_tui.tasks.checkouts import (
    ENV_ROOTS,
    clone_bundle,
    default_roots,
    find_checkout,
    local_checkout,
    normalize_url,
)
from ccl_tui.tasks.snapshot import LocalRepo
from tests.tasks_helpers import git, make_repo
from tests.tui_support import DEMO, copy_db

URL = "git@github.com:acme-labs/widgets.git"


def _repo(root: Path, name: str, content: str = "v1\n", remote: str | None = None) -> tuple[Path, str]:
    path, commit = make_repo(root / name, {"README.md": content, "pkg/mod.py": "x = 1\n"})
    if remote:
        git(path, "remote", "add", "origin", remote)
    return path, commit


def _bundle(repo: Path, dest: Path) -> Path:
    git(repo, "bundle", "create", "--quiet", str(dest), "main", "HEAD")
    return dest


def _fingerprint(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every path under ``root`` with its mode, mtime and content hash."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        digest = hashlib.sha1(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else ""
        out[str(path.relative_to(root))] = (st.st_mode, st.st_mtime_ns, digest)
    return out


@pytest.mark.parametrize(
    "url",
    [
        "git@github.com:acme-labs/widgets.git",
        "git@github.com:Acme-Labs/Widgets",
        "ssh://git@github.com/acme-labs/widgets.git",
        "ssh://git@github.com:22/acme-labs/widgets/",
        "https://github.com/acme-labs/widgets",
        "https://user:token@github.com/acme-labs/widgets.git",
        "git://github.com/acme-labs/widgets.git",
    ],
)
def test_url_forms_normalise_alike(url: str) -> None:
    assert normalize_url(url) == "github.com/acme-labs/widgets"


@pytest.mark.parametrize("url", ["", None, "/srv/git/widgets.git", "file:///srv/widgets.git", "C:\\src\\widgets"])
def test_local_or_empty_urls_do_not_normalise(url: str | None) -> None:
    assert normalize_url(url) is None


def test_the_remote_url_wins_over_the_folder_name(tmp_path: Path) -> None:
    roots = tmp_path / "src"
    right, commit = _repo(roots, "some-other-name", remote="https://github.com/acme-labs/widgets")
    _repo(roots, "widgets", content="different\n")  # right name, no remote, other history
    got = find_checkout("/home/ana/src/widgets", URL, "widgets", commit, [roots], cache=tmp_path / "cache")
    assert got == right


def test_name_fallback_finds_a_checkout_and_an_org_layout(tmp_path: Path) -> None:
    roots = tmp_path / "src"
    path, commit = _repo(roots / "acme-labs", "widgets")  # root/org/name
    assert find_checkout("/gone/widgets", None, None, commit, [roots], cache=tmp_path / "c") == path
    assert find_checkout(None, URL, None, commit, [roots], cache=tmp_path / "c") == path  # the url's last part
    assert find_checkout(None, None, "widgets", commit[:12], [path], cache=tmp_path / "c") == path  # root itself


def test_a_missing_commit_or_no_match_is_none(tmp_path: Path) -> None:
    roots = tmp_path / "src"
    _path, commit = _repo(roots, "widgets")
    assert find_checkout(None, URL, "widgets", "0" * 40, [roots], cache=tmp_path / "c") is None
    assert find_checkout(None, None, "gadgets", commit, [roots], cache=tmp_path / "c") is None
    assert find_checkout(None, URL, "widgets", "not-a-commit", [roots], cache=tmp_path / "c") is None
    assert find_checkout(None, URL, "widgets", commit, [tmp_path / "nope"], cache=tmp_path / "c") is None


def test_a_bundle_is_cloned_once_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source, commit = _repo(tmp_path / "upstream", "widgets")
    roots = tmp_path / "bundles"
    roots.mkdir()
    bundle = _bundle(source, roots / "widgets.bundle")
    cache = tmp_path / "cache"
    first = find_checkout("/gone/widgets", URL, "widgets", commit, [roots], cache=cache)
    assert first is not None and first.parent == cache and (first / ".git").is_dir()
    assert git(first, "rev-parse", "HEAD") == commit

    clones = []
    real = checkouts._git

    def counting(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str] | None:
        if args and args[0] == "clone":
            clones.append(args)
        return real(args, cwd)

    monkeypatch.setattr(checkouts, "_git", counting)
    assert find_checkout("/gone/widgets", URL, "widgets", commit, [roots], cache=cache) == first
    assert clones == []  # reused
    # a changed bundle (new commit) gets a fresh clone: the key is path + size + mtime
    (source / "README.md").write_text("v2\n")
    git(source, "commit", "-qam", "v2")
    newer = git(source, "rev-parse", "HEAD")
    _bundle(source, bundle)
    second = find_checkout("/gone/widgets", URL, "widgets", newer, [roots], cache=cache)
    assert second is not None and second != first and len(clones) == 1
    assert find_checkout(None, None, "widgets", newer, [roots], cache=cache) == second and len(clones) == 1


def test_roots_are_never_written(tmp_path: Path) -> None:
    roots = tmp_path / "src"
    checkout, commit = _repo(roots, "widgets", remote=URL)
    source, bundled = _repo(tmp_path / "up", "gadgets")
    _bundle(source, roots / "gadgets.bundle")
    before = _fingerprint(roots)
    modes = {p: p.stat().st_mode for p in [roots, *roots.rglob("*")] if not p.is_symlink()}
    try:
        for p in modes:
            p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        assert find_checkout(None, URL, "widgets", commit, [roots], cache=tmp_path / "c") == checkout
        found = find_checkout(None, None, "gadgets", bundled, [roots], cache=tmp_path / "c")
        assert found is not None and found.is_relative_to(tmp_path / "c")
        repo = local_checkout("/gone/widgets", URL, "widgets", commit, [roots], cache=tmp_path / "c")
        assert repo == LocalRepo(str(checkout.resolve()), "", commit)
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
    assert _fingerprint(roots) == before


def test_local_checkout_keeps_the_cwd_prefix(tmp_path: Path) -> None:
    roots = tmp_path / "src"
    path, commit = _repo(roots, "widgets")
    repo = local_checkout("/home/ana/src/widgets/pkg", None, "widgets", commit[:10], [roots], cache=tmp_path / "c")
    assert repo == LocalRepo(str(path.resolve()), "pkg", commit)
    repo = local_checkout("/home/ana/src/widgets/nope", None, "widgets", commit, [roots], cache=tmp_path / "c")
    assert repo is not None and repo.prefix == ""


def test_default_roots_are_the_env_roots_then_the_demo_repos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    monkeypatch.setenv(ENV_ROOTS, f"{a}{os.pathsep}{b}{os.pathsep}")
    assert default_roots() == [a, b, DEMO / "repos"]
    monkeypatch.delenv(ENV_ROOTS)
    assert default_roots() == [DEMO / "repos"]


def test_clone_bundle_refuses_a_broken_bundle(tmp_path: Path) -> None:
    bad = tmp_path / "broken.bundle"
    bad.write_bytes(b"# v2 git bundle\nnot really\n")
    assert clone_bundle(bad, tmp_path / "cache") is None
    assert not [p for p in (tmp_path / "cache").iterdir() if not p.name.startswith(".")]


# --------------------------------------------------------------------------------------------------------------
# the hook, end to end on the demo corpus
# --------------------------------------------------------------------------------------------------------------


def test_demo_tasks_are_snapshots_that_build_and_the_runnable_one_is_proven(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ccl-tui tasks export` on the demo database writes snapshot tasks (the demo repositories'
    bundles, cloned into the cache) whose start state builds; the runnable episode's task is proven by
    running it: the check fails before the solution and passes after it."""
    import json

    from ccl_tui.cli import main

    db = copy_db(demo_db, tmp_path / "demo.sqlite")
    out = tmp_path / "tasks"
    assert main(["tasks", "export", "--db", str(db), "--top", "10", "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    tasks = report["tasks"]
    assert tasks and all(t["environment_mode"] == "snapshot" for t in tasks), [t["environment_mode"] for t in tasks]
    for t in tasks:
        prepare_repo(Path(t["path"]), tmp_path / "start" / t["name"])  # the Dockerfile's steps, locally
    runnable = [t for t in tasks if "unittest" in t["name"]]
    assert len(runnable) == 1
    checked = check_task(Path(runnable[0]["path"]), run=True)
    assert (checked.reward_before, checked.reward_after, checked.reproducible) == (0.0, 1.0, True), checked.note
    assert runnable[0]["session_id"] in {p.session_id for p in episode.plans(2026, 500)}
    assert sys.executable  # the check ran with `python3` from PATH: the standard library only
