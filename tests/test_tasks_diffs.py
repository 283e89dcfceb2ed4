"""Recorded edits -> git-appliable unified diffs, applied with real git exactly as solve.sh does."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ccl_tui.tasks.diffs import GIT_APPLY_ARGS, DiffError, combine, from_changes, from_codex_patch
from ccl_tui.tasks.model import PatchRef
from tests.tasks_helpers import make_repo

APP = "def a():\n    return 1\n\n\ndef b():\n    return 2\n\n\ndef c():\n    return 3\n"


def _apply(repo: Path, diff_text: str) -> subprocess.CompletedProcess[str]:
    patch = repo.parent / "x.patch"
    patch.write_text(diff_text)
    return subprocess.run(["git", *GIT_APPLY_ARGS, str(patch)], cwd=repo, capture_output=True, text=True)


def _ref(seq: int, text: str | None = None, changes: dict | None = None) -> PatchRef:
    return PatchRef(seq, seq, f"call_{seq}", text, False, changes)


def test_codex_patch_with_hints_add_delete_and_move_applies(tmp_path: Path) -> None:
    repo, _ = make_repo(tmp_path / "r", {"app.py": APP, "old.txt": "bye\n", "mv.py": "x = 1\n"})
    patch = (
        "*** Begin Patch\n"
        "*** Update File: app.py\n"
        "@@ def b():\n"
        "-    return 2\n"
        "+    return 20\n"
        "@@ def c():\n"
        "-    return 3\n"
        "+    return 30\n"
        "*** Add File: pkg/new.py\n"
        "+print('hi')\n"
        "+\n"
        "*** Delete File: old.txt\n"
        "*** Update File: mv.py\n"
        "*** Move to: moved.py\n"
        "@@\n"
        "-x = 1\n"
        "+x = 2\n"
        "*** End Patch"
    )
    diff = from_codex_patch(patch, str(repo))
    assert diff.deleted == ["old.txt"]
    assert "rename from mv.py\nrename to moved.py" in diff.text
    proc = _apply(repo, diff.text)
    assert proc.returncode == 0, proc.stderr
    assert (repo / "app.py").read_text() == APP.replace("return 2", "return 20").replace("return 3", "return 30")
    assert (repo / "pkg" / "new.py").read_text() == "print('hi')\n\n"
    assert (repo / "moved.py").read_text() == "x = 2\n" and not (repo / "mv.py").exists()


def test_sequential_patches_to_one_file_combine(tmp_path: Path) -> None:
    repo, _ = make_repo(tmp_path / "r", {"app.py": APP})
    first = "*** Begin Patch\n*** Update File: app.py\n@@\n def a():\n-    return 1\n+    return 10\n*** End Patch\n"
    second = "*** Begin Patch\n*** Update File: /abs/r/app.py\n@@\n-    return 10\n+    return 100\n*** End Patch\n"
    diff = combine([_ref(1, first), _ref(2, second)], "/abs/r")
    proc = _apply(repo, diff.text)
    assert proc.returncode == 0, proc.stderr
    assert "return 100" in (repo / "app.py").read_text()


def test_recorded_changes_are_preferred_and_exact(tmp_path: Path) -> None:
    repo, _ = make_repo(tmp_path / "r", {"app.py": APP})
    changes = {
        "/w/r/app.py": {"type": "update", "diff": "@@ -5,2 +5,2 @@\n def b():\n-    return 2\n+    return 22\n"},
        "/w/r/docs/n.md": {"type": "add", "content": "# notes\nno newline"},
    }
    bad_text = "*** Begin Patch\n*** Update File: app.py\n@@\n-nothing like this\n+x\n*** End Patch\n"
    diff = combine([_ref(1, bad_text, changes)], "/w/r")  # the exact record wins over the Codex text
    assert "@@ -5,2 +5,2 @@" in diff.text and "\\ No newline at end of file" in diff.text
    proc = _apply(repo, diff.text)
    assert proc.returncode == 0, proc.stderr
    assert "return 22" in (repo / "app.py").read_text()
    assert (repo / "docs" / "n.md").read_text() == "# notes\nno newline"


def test_changes_without_bodies_fall_back_to_the_codex_text() -> None:
    text = "*** Begin Patch\n*** Update File: a.py\n@@\n-x\n+y\n*** End Patch\n"
    diff = combine([_ref(1, text, {"/w/a.py": {"type": "update"}})], "/w")
    assert "-x\n+y\n" in diff.text


@pytest.mark.parametrize(
    ("patch", "match"),
    [
        ("*** Begin Patch\n*** Update File: ../../etc/passwd\n@@\n-a\n+b\n*** End Patch", "unsafe"),
        ("*** Begin Patch\n*** Add File: /etc/cron.d/x\n+a\n*** End Patch", "unsafe"),
        ("*** Begin Patch\n*** Add File: a/../../b\n+a\n*** End Patch", "unsafe"),
        ("*** Begin Patch\n*** Update File: a.py\n@@ def f():\n+only added\n*** End Patch", "without context"),
        ("*** Begin Patch\n*** Update File: a.py\n@@\n-a\n+b\n", "truncated"),
        ("no patch here", "Begin Patch"),
        ("*** Begin Patch\n*** Frobnicate: a\n*** End Patch", "unexpected"),
    ],
)
def test_unconvertible_patches_are_refused(patch: str, match: str) -> None:
    with pytest.raises(DiffError, match=match):
        from_codex_patch(patch, "/w/repo")


def test_paths_outside_the_session_cwd_are_refused() -> None:
    with pytest.raises(DiffError, match="unsafe"):
        from_changes({"/elsewhere/x.py": {"type": "add", "content": "x\n"}}, "/w/repo")
    with pytest.raises(DiffError, match="unsafe"):
        from_changes({"/w/repo-evil/x.py": {"type": "add", "content": "x\n"}}, "/w/repo")


def test_prefix_makes_paths_relative_to_the_repository_root() -> None:
    diff = from_codex_patch("*** Begin Patch\n*** Add File: src/a.py\n+x\n*** End Patch", "/w/repo/pkg", "pkg")
    assert "diff --git a/pkg/src/a.py b/pkg/src/a.py" in diff.text


def test_secrets_in_patches_are_redacted() -> None:
    key = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"
    diff = from_codex_patch(f"*** Begin Patch\n*** Add File: cfg.py\n+TOKEN = '{key}'\n*** End Patch", "/w")
    assert key not in diff.text and "[REDACTED:github-token]" in diff.text and diff.redacted


def test_a_file_deleted_then_edited_is_refused() -> None:
    delete = "*** Begin Patch\n*** Delete File: a.py\n*** End Patch"
    edit = "*** Begin Patch\n*** Update File: a.py\n@@\n-x\n+y\n*** End Patch"
    with pytest.raises(DiffError, match="deleted"):
        combine([_ref(1, delete), _ref(2, edit)], "/w")
