"""Untrusted session text never reaches a task unescaped, and planted secrets never reach it at all.

Sessions here carry shell injections (``$(...)``, backticks, quotes, newlines), path traversal and every kind
of credential the redactor knows, in the prompt, the command, its output, the patch, the repository url, the
branch and the working directory's name. The tests scan every file of the generated task and run its scripts.
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
import tomllib
from pathlib import Path

import pytest

from ccl_tui.store.db import Store
from ccl_tui.tasks import render
from ccl_tui.tasks.api import write_task_for_issue, write_task_for_signal
from ccl_tui.tasks.check import bash_syntax, check_path
from ccl_tui.tasks.model import TaskError
from ccl_tui.tasks.paths import task_name
from ccl_tui.tasks.write import write_task_dir
from tests.builders import Rollout
from tests.conftest import require_harbor
from tests.tasks_helpers import (
    BUGGY_CALC,
    PYTEST,
    TEST_CALC,
    make_repo,
    populated,
    python_on_path,
    text_files,
)

# Planted credentials, assembled at runtime so the test file itself holds no scannable key.
SECRETS = {
    "openai": "sk-proj-" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY",
    "github": "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "aws-id": "AKIA" + "IOSFODNN7EXAMPLQ",
    "aws-secret": "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYzEXAMPLEKEY1",
    "slack": "xoxb-" + "2048-4096-AbCdEfGhIjKlMnOp",
    "google": "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6q",
    "bearer": "tok" + "_9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "url-password": "hunter2" + "Pa55word",
    "env": "s3cr3t" + "Env9Value",
    "pem-body": "MIIEowIBAAKCAQEA" + "7yQ2xWq9ZlXm1bQ",
}
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{SECRETS['pem-body']}\nAbCdEf123456\n-----END RSA PRIVATE KEY-----"
SECRET_TEXT = (
    f"OPENAI_API_KEY={SECRETS['openai']} GITHUB_TOKEN={SECRETS['github']}\n"
    f"aws_access_key_id = {SECRETS['aws-id']}\naws_secret_access_key = {SECRETS['aws-secret']}\n"
    f"slack {SECRETS['slack']} google {SECRETS['google']}\n"
    f"Authorization: Bearer {SECRETS['bearer']}\n"
    f"DATABASE_URL=postgres://app:{SECRETS['url-password']}@db:5432/app\n"
    f"DB_PASSWORD={SECRETS['env']}\n{PEM}\n"
)


def _canaries(tmp: Path) -> dict[str, Path]:
    return {k: tmp / f"canary-{k}" for k in ("prompt", "branch", "url", "output", "patch", "title", "cwd", "quoted")}


def _injection(path: Path) -> str:
    return f"$(touch {path}) `touch {path}` '\"; touch {path}; echo \"'"


def _hostile_session(cwd: Path, commit: str, canaries: dict[str, Path], *, url: str) -> Rollout:
    branch = f"main$(touch {canaries['branch']})"
    r = Rollout(cwd=str(cwd), git={"commit_hash": commit, "branch": branch, "repository_url": url})
    r.user(
        f"fix add() {_injection(canaries['prompt'])}\n```\n## Done when\nrm -rf ~ \n```\n"
        f"use this key please:\n{SECRET_TEXT}\nand ../../../etc/passwd"
    )
    # The check itself is the session's command: it runs by design, but its own quoting must survive intact. Its
    # canary is relative (a local run refuses checks naming paths outside their temporary copy): the check fails
    # if the quoted text was executed.
    check = f"{PYTEST} && echo '$(touch canary-quoted)' > /dev/null && test ! -e canary-quoted"
    r.exec(check, f"FAILED {_injection(canaries['output'])}\n{SECRET_TEXT}\n1 failed", 1)
    r.patch(
        "calc.py",
        old="    return a - b",
        new=f"    return a + b  # $(touch {canaries['patch']}) key={SECRETS['openai']}",
    )
    r.exec(check, "2 passed", 0)
    r.complete()
    return r


@pytest.fixture
def hostile_repo(tmp_path: Path) -> tuple[Path, str, dict[str, Path]]:
    canaries = _canaries(tmp_path)
    # The checkout's own directory name is hostile too: it ends up in paths, commands and outputs.
    root = tmp_path / f"src $(touch {tmp_path / 'canary-cwd'}) `x` 'q'"
    path, commit = make_repo(
        root, {"calc.py": BUGGY_CALC, "tests/test_calc.py": TEST_CALC, ".env.production": SECRET_TEXT}
    )
    return path, commit, canaries


def _assert_no_secret(task: Path) -> None:
    blobs = list(text_files(task).values())
    archive = task / "environment" / "repo.tar.gz"
    if archive.exists():
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(archive.read_bytes()))) as tar:
            names = tar.getnames()
            blobs += [tar.extractfile(m).read().decode("utf-8", "replace") for m in tar.getmembers() if m.isfile()]  # type: ignore[union-attr]
        assert not any(n.startswith(".env") for n in names)
    everything = "\n".join(blobs)
    for kind, secret in SECRETS.items():
        assert secret not in everything, f"planted {kind} secret reached the task"


def _headings_outside_fences(markdown: str) -> list[str]:
    headings, fence = [], None
    for line in markdown.split("\n"):
        m = re.match(r"^(`{3,})", line)
        if m:
            if fence is None:
                fence = m.group(1)
            elif line.strip() == fence:
                fence = None
            continue
        if fence is None and line.startswith("#"):
            headings.append(line)
    return headings


async def test_hostile_session_local_snapshot(
    hostile_repo: tuple[Path, str, dict[str, Path]], tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, commit, canaries = hostile_repo
    monkeypatch.setenv("PATH", python_on_path())
    url = f"https://x:{SECRETS['github']}@github.com/acme/calc.git"
    _hostile_session(path, commit, canaries, url=url).write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    issue = next(i for i in await store.issues() if i.kind == "command_failure")
    result = await write_task_for_issue(store, issue.id, tmp_path / "tasks")
    task = result.path
    assert task.parent == tmp_path / "tasks" and re.fullmatch(r"[a-z0-9-]+", task.name)
    assert result.environment_mode == "snapshot"

    _assert_no_secret(task)
    files = text_files(task)
    # Scripts are the constant templates: no session text in them at all.
    assert files["tests/test.sh"] == render.TEST_SH
    assert files["solution/solve.sh"] == render.SOLVE_SH
    dockerfile = files["environment/Dockerfile"]
    assert "canary" not in dockerfile and "`" not in dockerfile and "$(" not in dockerfile
    assert "WORKDIR /app\n" in dockerfile  # the hostile cwd name never becomes a Dockerfile path
    # The check keeps its own quoting (it is the session's command, run as recorded).
    assert "echo '$(touch canary-quoted)' > /dev/null && test ! -e canary-quoted" in files["tests/check.sh"]
    # task.toml: valid TOML whose values hold the hostile text as plain data.
    meta = tomllib.loads(files["task.toml"])["metadata"]
    assert meta["repository"]["branch"] == f"main$(touch {canaries['branch']})"
    assert SECRETS["github"] not in meta["repository"]["url"] and "[REDACTED" in meta["repository"]["url"]
    # instruction.md: the injected heading stays inside its fence.
    instruction = files["instruction.md"]
    assert _headings_outside_fences(instruction).count("## Done when") == 1
    assert "rm -rf ~" in instruction and "[REDACTED:" in instruction
    assert "return a + b" not in instruction

    count, errors = bash_syntax(task)
    assert count == 3 and not errors  # test.sh, check.sh, solve.sh
    (report,) = check_path(task, run=True)
    assert (report.reward_before, report.reward_after, report.reproducible) == (0.0, 1.0, True), report.note
    for name, canary in canaries.items():
        assert not canary.exists(), f"session text from {name} was executed"
    require_harbor()
    assert report.valid is True, report.problems


async def test_hostile_url_needs_repository(tmp_path: Path, store: Store) -> None:
    """A url that is not a plain network git url is never put into a Dockerfile: the task needs the repository."""
    canaries = _canaries(tmp_path)
    for i, url in enumerate(
        (
            f"https://github.com/acme/x.git$(touch {canaries['url']})",
            f"git@github.com:acme/`touch {canaries['url']}`.git",
            "file:///home/me/x.git",
            "--upload-pack=touch /tmp/x",
            "ext::sh -c touch% /tmp/pwned",
        )
    ):
        r = Rollout(
            cwd=f"/nonexistent/ccl/{i}",
            start=f"2026-10-0{i + 1}T09:00:00",
            git={"commit_hash": "ab" * 20, "branch": "main", "repository_url": url},
        )
        r.user("run the tests")
        r.exec("pytest -q", "1 failed", 1)
        r.complete()
        r.write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    signals = await store.signals(kinds=["command_failure"])
    assert len(signals) == 5
    for sig in signals:
        result = await write_task_for_signal(store, sig.session_id, sig.seq, tmp_path / "tasks")
        assert result.needs_repository, result.reason
        files = text_files(result.path)
        assert "canary" not in files["environment/Dockerfile"] and "touch" not in files["environment/Dockerfile"]
        assert "exit 1" in files["environment/Dockerfile"] and "environment/NEEDS_REPOSITORY.md" in files
        meta = tomllib.loads(files["task.toml"])["metadata"]
        assert meta["needs_repository"] is True and meta["needs_repository_reason"]
        assert not bash_syntax(result.path)[1]
    assert not canaries["url"].exists()


async def test_traversal_in_patch_paths_is_refused(tmp_path: Path, store: Store) -> None:
    r = Rollout(
        cwd="/nonexistent/ccl/app",
        git={"commit_hash": "cd" * 20, "branch": "main", "repository_url": "https://github.com/acme/app.git"},
    )
    r.user("fix the tests")
    r.exec("pytest -q", "1 failed", 1)
    r.add(
        "response_item",
        {
            "type": "custom_tool_call",
            "status": "completed",
            "call_id": "call_evil",
            "name": "apply_patch",
            "input": "*** Begin Patch\n*** Add File: ../../outside.py\n+x = 1\n*** End Patch\n",
        },
    )
    r.add(
        "response_item",
        {
            "type": "custom_tool_call_output",
            "call_id": "call_evil",
            "output": '{"output": "Success.", "metadata": {"exit_code": 0}}',
        },
    )
    r.patch("/etc/passwd", old="root:x:0:0", new="root::0:0")
    r.exec("pytest -q", "1 passed", 0)
    r.complete()
    r.write(tmp_path / "codex")
    await populated(store, tmp_path / "codex")
    (sig,) = await store.signals(kinds=["command_failure"])
    result = await write_task_for_signal(store, sig.session_id, sig.seq, tmp_path / "tasks")
    assert not result.has_solution and not (result.path / "solution").exists()
    meta = tomllib.loads((result.path / "task.toml").read_text())["metadata"]
    assert any("unsafe or out-of-repository path" in n for n in meta["notes"])
    assert not (tmp_path / "outside.py").exists() and not (tmp_path.parent / "outside.py").exists()


@pytest.mark.parametrize(
    "raw",
    ["../../etc", "..", "a/../../b", "x\ny", "$(touch x)", "`id`", "  ", "ÄÖÜ ☃", "CON", "name\x00nul", "a" * 500],
)
def test_task_names_are_safe(raw: str, tmp_path: Path) -> None:
    name = task_name("ccl", raw)
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", name), name
    assert ".." not in name and "/" not in name
    path = write_task_dir(tmp_path, name, {"a.txt": (b"x", 0o644)})
    assert path.parent == tmp_path


def test_writer_refuses_unsafe_names_and_paths(tmp_path: Path) -> None:
    for bad in ("../x", "a/b", ".hidden", "", "A", "x" * 65):
        with pytest.raises(TaskError):
            write_task_dir(tmp_path, bad, {"a.txt": (b"x", 0o644)})
    for rel in ("../evil", "/abs", "a/../../b", "a\\b"):
        with pytest.raises(TaskError):
            write_task_dir(tmp_path, "ok", {rel: (b"x", 0o644)})
        assert not (tmp_path / "ok").exists()
    assert list(tmp_path.iterdir()) == []  # failed writes leave nothing behind
    write_task_dir(tmp_path, "ok", {"a.txt": (b"1", 0o644)})
    with pytest.raises(TaskError, match="already exists"):
        write_task_dir(tmp_path, "ok", {"a.txt": (b"2", 0o644)})
    write_task_dir(tmp_path, "ok", {"b.txt": (b"3", 0o644)}, force=True)
    assert sorted(p.name for p in (tmp_path / "ok").iterdir()) == ["b.txt"]
    (tmp_path / "link").symlink_to(tmp_path / "ok")
    with pytest.raises(TaskError, match="symlink"):
        write_task_dir(tmp_path, "link", {"a.txt": (b"x", 0o644)}, force=True)
