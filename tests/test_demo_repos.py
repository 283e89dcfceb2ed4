"""The demo corpus's repositories are real: deterministic git histories, shipped as bundles, and what the sessions
show (commits, AGENTS.md, `sed`/`nl` output, `git log`, every successful apply_patch) agrees with them."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import zstandard

from ccl_tui.demo import gitrepos
from ccl_tui.demo import repofiles as rf
from ccl_tui.demo.clock import FIX_DATE
from ccl_tui.demo.repos import PY, REPOS
from ccl_tui.signals.session_view import SessionView
from ccl_tui.store.db import Store
from ccl_tui.tasks.diffs import GIT_APPLY_ARGS, DiffError, diff_of
from ccl_tui.tasks.model import PatchRef
from ccl_tui.tasks.select import patch_refs
from tests.tui_support import DEMO

REPOS_DIR = DEMO / gitrepos.REPOS_FOLDER


def _git(*args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=gitrepos.git_env(), capture_output=True, text=True, check=True, timeout=120
    )
    return proc.stdout


def _records(path: Path) -> list[dict[str, Any]]:
    data = path.read_bytes()
    if path.suffix == ".zst":
        data = zstandard.ZstdDecompressor().decompress(data)
    return [orjson.loads(line) for line in data.split(b"\n") if line]


def _meta(recs: list[dict[str, Any]]) -> dict[str, Any]:
    return recs[0].get("payload", recs[0])


@pytest.fixture(scope="module")
def rollouts() -> dict[Path, list[dict[str, Any]]]:
    return {p: _records(p) for p in sorted(DEMO.rglob("rollout-*")) if p.is_file()}


# --------------------------------------------------------------------------------------------------------------
# histories
# --------------------------------------------------------------------------------------------------------------


def test_building_twice_gives_the_same_commits(tmp_path: Path) -> None:
    """git computes the hashes this module computes, the same in two fresh builds, and fsck finds nothing."""
    for repo in REPOS:
        h = gitrepos.history(repo.name)
        heads = []
        for n in (1, 2):
            built = gitrepos.build_repo(h, tmp_path / f"{n}" / f"{repo.name}.git")
            commits = _git(f"--git-dir={built}", "rev-list", "--reverse", "main").split()
            assert commits == [c.sha for c in h.commits], repo.name
            heads.append(commits[-1])
            _git(f"--git-dir={built}", "fsck", "--strict", "--no-progress")
        assert heads[0] == heads[1] == h.head.sha
        log = _git(f"--git-dir={tmp_path / '1' / f'{repo.name}.git'}", "log", "-1", "--format=%an|%ae|%at|%ct|%s")
        c = h.head
        assert log.strip().split("|") == [c.author.name, c.author.email, str(c.epoch), str(c.epoch), c.subject]


def test_shipped_bundles_hold_these_histories(tmp_path: Path) -> None:
    total = 0
    for repo in REPOS:
        bundle = REPOS_DIR / f"{repo.name}.bundle"
        total += bundle.stat().st_size
        heads = dict(line.split(" ")[::-1] for line in _git("bundle", "list-heads", str(bundle)).splitlines())
        assert heads == {
            "refs/heads/main": gitrepos.history(repo.name).head.sha,
            "HEAD": gitrepos.history(repo.name).head.sha,
        }
        clone = tmp_path / repo.name
        _git("clone", "--quiet", "--template=", str(bundle), str(clone))
        tracked = set(_git("ls-files", cwd=clone).split())
        assert tracked == set(repo.files) | {"CHANGELOG.md"}
    print(f"bundles: {total:,} bytes")
    assert total < 1_000_000
    assert (REPOS_DIR / "README.md").is_file()


def test_every_site_sits_at_its_line_in_every_commit() -> None:
    for repo in REPOS:
        for commit in gitrepos.history(repo.name).commits:
            for site in repo.sites:
                lines = commit.files[site.path].decode().split("\n")
                got = lines[site.first_line - 1 : site.first_line - 1 + len(site.lines)]
                assert tuple(got) == site.lines, (repo.name, commit.sha[:7], site.path)


def test_agents_md_changes_on_the_fix_date_in_a_real_commit() -> None:
    for repo in REPOS:
        h = gitrepos.history(repo.name)
        days = {c.day for c in h.commits if b"uv sync" in c.files["AGENTS.md"]}
        if repo.lang != PY:
            assert not days and h.fix is None
            continue
        assert h.fix is not None
        fix = h.commits[h.fix]
        assert fix.day == FIX_DATE and b"Run `uv sync` first" in fix.files["AGENTS.md"]
        assert b"uv sync" not in h.commits[h.fix - 1].files["AGENTS.md"]
        assert min(days) == FIX_DATE


def test_commit_dates_span_the_corpus_and_regressions_are_real() -> None:
    h = gitrepos.history("billing-api")
    assert h.commits[0].day < "2026-09-28" <= h.commits[2].day and h.head.day <= "2026-11-08"
    for name, slot in gitrepos.REGRESSION_SLOT.items():
        history = gitrepos.history(name)
        bad = history.commits[history.slots[slot]]
        good = history.commits[history.slots[slot] - 1]
        path, line, ok, bug = (
            ("src/billing/services/tax.py", rf.BILLING_TAX_LINE, rf.BILLING_TAX_OK, rf.BILLING_TAX_BUG)
            if name == "billing-api"
            else ("src/etl/transform/normalize.py", rf.ETL_AMOUNT_LINE, rf.ETL_AMOUNT_OK, rf.ETL_AMOUNT_BUG)
        )
        assert good.files[path].decode().split("\n")[line - 1] == ok
        assert bad.files[path].decode().split("\n")[line - 1] == bug
        assert bad.subject.startswith("perf:")


# --------------------------------------------------------------------------------------------------------------
# what the sessions show agrees with the repositories
# --------------------------------------------------------------------------------------------------------------


def test_every_recorded_commit_exists_and_predates_its_session(rollouts: dict[Path, list[dict[str, Any]]]) -> None:
    by_url = {repo.url: gitrepos.history(repo.name) for repo in REPOS}
    for path, recs in rollouts.items():
        meta = _meta(recs)
        h = by_url[meta["git"]["repository_url"]]
        sha = meta["git"]["commit_hash"]
        commit = h.commits[h.index(sha)]
        started = meta["timestamp"]
        assert commit.epoch * 1000 <= _ms(started), (path.name, commit.oneline)


def _ms(ts: str) -> int:
    return int(datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp() * 1000)


def _outputs(recs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(command, output text) of every shell call, in order."""
    calls: dict[str, str] = {}
    out: list[tuple[str, str]] = []
    for rec in recs:
        p = rec.get("payload", rec)
        if p.get("type") == "function_call" and p.get("name") in ("shell", "shell_command", "exec_command"):
            args = orjson.loads(p["arguments"])
            cmd = args.get("cmd") or args.get("command")
            calls[p["call_id"]] = cmd[-1] if isinstance(cmd, list) else cmd
        elif p.get("type") == "function_call_output" and p.get("call_id") in calls:
            text = p["output"]
            if text.startswith("{"):
                text = orjson.loads(text)["output"]
            else:
                text = text.split("\nOutput:\n", 1)[-1]
            out.append((calls[p["call_id"]], text))
    return out


def test_sed_nl_and_git_log_outputs_are_the_real_files(rollouts: dict[Path, list[dict[str, Any]]]) -> None:
    """What sessions print of the code they work on is the file at their commit. (Not checked: the migration
    a `psql` episode reads instead of the database, whose recorded text is the Go repository's SQL migration
    even in the Python repositories: a generator shortcut that predates real repositories.)"""
    by_url = {repo.url: gitrepos.history(repo.name) for repo in REPOS}
    sites = {s.path for repo in REPOS for s in repo.sites} | {
        "src/billing/services/tax.py",
        "src/etl/transform/normalize.py",
    }
    seen: Counter[str] = Counter()
    for recs in rollouts.values():
        meta = _meta(recs)
        h = by_url[meta["git"]["repository_url"]]
        files = h.files_at(meta["git"]["commit_hash"])
        for cmd, text in _outputs(recs):
            if (m := re.fullmatch(r"sed -n '(\d+),(\d+)p' (\S+)", cmd)) and m[3] in sites:
                real = files[m[3]].decode().split("\n")[int(m[1]) - 1 : int(m[2])]
                shown = text.rstrip("\n").split("\n")
                assert shown == real[: len(shown)], (cmd, meta["id"])  # the excerpt: what the real sed prints first
                seen["sed"] += 1
            elif m := re.fullmatch(r"nl -ba (\S+) \| sed -n '(\d+),(\d+)p'", cmd):
                real = files[m[1]].decode().split("\n")
                want = "".join(f"{n:>6}\t{real[n - 1]}\n" for n in range(int(m[2]), int(m[3]) + 1))
                assert text == want, (cmd, meta["id"])
                seen["nl"] += 1
            elif cmd == "git log --oneline -5":
                assert text.rstrip("\n").split("\n") == h.log(meta["git"]["commit_hash"]), meta["id"]
                seen["git log"] += 1
    assert seen["sed"] > 300 and seen["nl"] > 20 and seen["git log"] > 20, seen


def test_recorded_agents_md_is_the_file_at_the_commit(rollouts: dict[Path, list[dict[str, Any]]]) -> None:
    by_url = {repo.url: gitrepos.history(repo.name) for repo in REPOS}
    checked = 0
    for recs in rollouts.values():
        meta = _meta(recs)
        agents = (
            gitrepos.history(by_url[meta["git"]["repository_url"]].repo.name)
            .files_at(meta["git"]["commit_hash"])["AGENTS.md"]
            .decode()
            .rstrip("\n")
        )
        recorded = meta.get("instructions") or next(
            (r["payload"].get("user_instructions") for r in recs if r.get("type") == "turn_context"), None
        )
        if recorded is None:
            continue
        assert recorded == agents, meta["id"]
        checked += 1
    assert checked > 400


async def test_recorded_patches_replay_on_the_recorded_commit(demo_db: Path, tmp_path: Path) -> None:
    """Every successful apply_patch of every demo session, rebuilt as ccl-tui's task writer rebuilds it
    (ccl_tui.tasks.diffs) and applied in session order with `git apply` (the arguments solve.sh uses) onto the
    repository at the recorded commit. The few that cannot apply are stories that make the same change twice
    (or create a file twice, or revert an edit after another edit of the same lines); each of those applies on
    the commit itself."""
    store = await Store.open(demo_db)
    sessions: list[tuple[str, str, str | None, list[PatchRef]]] = []
    cwds: dict[str, str | None] = {}
    try:
        for s in await store.sessions():
            refs = patch_refs(SessionView(s.id, await store.events(s.id), s.origin))
            if refs:
                sessions.append((s.id, s.repo or "", s.git_commit, refs))
                cwds[s.id] = s.cwd
    finally:
        await store.close()
    counts, failures = replay(sessions, cwds, tmp_path)
    in_repo = counts["applied"] + counts["failed"]
    fraction = counts["applied"] / in_repo
    print(f"patch agreement: {counts['applied']}/{in_repo} = {fraction:.1%} ({dict(counts)})")
    assert fraction >= 0.96
    assert sum("DOES NOT APPLY" in f for f in failures) <= 1, failures


def _apply(patch: Path, cwd: Path) -> bool:
    proc = subprocess.run(
        ["git", *GIT_APPLY_ARGS, str(patch)], cwd=cwd, capture_output=True, env=gitrepos.git_env(), check=False
    )
    return proc.returncode == 0


def replay(
    sessions: list[tuple[str, str, str | None, list[PatchRef]]], cwds: dict[str, str | None], tmp_path: Path
) -> tuple[Counter[str], list[str]]:
    counts: Counter[str] = Counter()
    failures: list[str] = []
    patch = tmp_path / "edit.patch"
    for sid, repo, commit, refs in sessions:
        files = gitrepos.history(repo).files_at(commit or "")
        work = tmp_path / sid
        gitrepos.write_tree(files, work)
        for ref in refs:
            try:
                diff = diff_of(ref, cwds[sid])
            except DiffError:
                counts["outside the repository"] += 1  # e.g. ~/.config: not an edit of the repository
                continue
            for rel in diff.deleted:
                (work / rel).unlink(missing_ok=True)
            if not diff.sections:
                counts["applied"] += 1
                continue
            patch.write_text(diff.text)
            if _apply(patch, work):
                counts["applied"] += 1
                continue
            counts["failed"] += 1
            fresh = tmp_path / "fresh"
            shutil.rmtree(fresh, ignore_errors=True)
            gitrepos.write_tree(files, fresh)
            failures.append(f"{sid} {'applies on the commit alone' if _apply(patch, fresh) else 'DOES NOT APPLY'}")
        shutil.rmtree(work)
    return counts, failures
