"""Shared helpers for the tests/test_tasks_*.py files: real git repositories, stores, Harbor parsers."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from ccl_tui.pipeline import refresh
from ccl_tui.store.db import Store
from ccl_tui.store.ingest import ingest

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}

BUGGY_CALC = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
TEST_CALC = (
    "from calc import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
    "def test_mul():\n    assert mul(2, 3) == 6\n"
)
#: Runs the repository's tests with the interpreter running this test session (it has pytest).
PYTEST = "python -m pytest -q -p no:cacheprovider tests/test_calc.py"


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def make_repo(root: Path, files: dict[str, str | bytes]) -> tuple[Path, str]:
    """A real git repository with ``files`` committed; returns (path, commit sha)."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root, git(root, "rev-parse", "HEAD")


def python_on_path() -> str:
    """PATH with this interpreter's bin dir first, so `python -m pytest` in a verifier finds pytest."""
    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


async def populated(store: Store, *paths: Path) -> Store:
    await ingest(store, list(paths))
    await refresh(store)
    return store


def cli_parser() -> argparse.ArgumentParser:
    from ccl_tui.commands.tasks import register

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="PATH")
    p = argparse.ArgumentParser(prog="ccl-tui", parents=[common])
    register(p.add_subparsers(dest="command"), common)
    return p


def text_files(task: Path) -> dict[str, str]:
    """Every text file of a task (relative path -> content); the snapshot archive is listed separately."""
    return {
        str(p.relative_to(task)): p.read_text(errors="replace")
        for p in sorted(task.rglob("*"))
        if p.is_file() and not p.name.endswith(".tar.gz")
    }
