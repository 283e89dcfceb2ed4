"""Keep a session's edits consistent with the files they edit.

Stories write each patch against a site's code as the repository has it (repos.py excerpts). When a session
edits the same lines twice (a type-check guard after the task's change, a doc comment above a function it just
changed, a long session coming back to a function), the later patch, written against the original lines, would
not apply: Codex would answer "Failed to find expected lines". This pass replays the session's successful
edits on the files of its commit, the way Codex applies them, and rewrites a later patch that no longer applies:
its change is merged onto the current file (``git merge-file``, a three-way merge against the commit's version;
two insertions at the same place keep both, the earlier edit's lines first) and the patch is written anew from the current file to the merged one. It bills the context tokens of the text it
replaces (``Patch.billed``), so token counts stay as they were; nothing here draws random numbers.

What cannot be made consistent is left alone: the same change made twice (the second time finds nothing to
change), a file created twice.
"""

from __future__ import annotations

import difflib
import shutil
import subprocess
import tempfile
from pathlib import Path

from ccl_tui.demo.gitrepos import Files, git_env
from ccl_tui.demo.steps import ApplyPatch, Patch, Story

UPDATE = "*** Update File: "


def _chunks(text: str) -> list[tuple[list[str], list[str]]] | None:
    """(old lines, new lines) per hunk of a one-file ``*** Update File`` patch; None for other shapes."""
    rows = text.split("\n")
    if len(rows) < 3 or rows[0] != "*** Begin Patch" or not rows[1].startswith(UPDATE):
        return None
    chunks: list[tuple[list[str], list[str]]] = []
    old: list[str] = []
    new: list[str] = []
    for row in rows[2:]:
        if row.startswith("@@") or row == "*** End Patch":
            if old or new:
                chunks.append((old, new))
            old, new = [], []
            if row == "*** End Patch":
                return chunks
            continue
        sign, body = row[:1], row[1:]
        if sign == " ":
            old.append(body)
            new.append(body)
        elif sign == "-":
            old.append(body)
        elif sign == "+":
            new.append(body)
        elif row.startswith("***"):
            return None
    return None


def _seek(lines: list[str], pattern: list[str], start: int) -> int | None:
    """Codex's search: exact lines first, then ignoring trailing whitespace."""
    n = len(pattern)
    for same in (lambda a, b: a == b, lambda a, b: a.rstrip() == b.rstrip()):
        for i in range(start, len(lines) - n + 1):
            if all(same(lines[i + k], pattern[k]) for k in range(n)):
                return i
    return None


def codex_apply(lines: list[str], text: str) -> list[str] | None:
    """``lines`` after the update patch ``text``, as Codex's apply_patch would apply it; None if it would fail."""
    chunks = _chunks(text)
    if not chunks:
        return None
    out = list(lines)
    replacements: list[tuple[int, int, list[str]]] = []
    at = 0
    for old, new in chunks:
        if not old:
            return None
        found = _seek(out, old, at)
        if found is None:
            return None
        replacements.append((found, len(old), new))
        at = found + len(old)
    for start, length, new in reversed(replacements):
        out[start : start + length] = new
    return out


def _merge(base: list[str], ours: list[str], theirs: list[str]) -> list[str] | None:
    tmp = Path(tempfile.mkdtemp(prefix="ccl-demo-merge-"))
    try:
        for name, lines in (("ours", ours), ("base", base), ("theirs", theirs)):
            (tmp / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        for mode in ((), ("--union",)):  # two insertions at the same place conflict: keep both (ours first)
            proc = subprocess.run(
                ["git", "merge-file", "-p", "--quiet", *mode, "ours", "base", "theirs"],
                cwd=tmp,
                capture_output=True,
                env=git_env(),
                check=False,
                timeout=60,
            )
            if proc.returncode == 0:
                merged = proc.stdout.decode("utf-8").split("\n")
                return merged[:-1] if merged and merged[-1] == "" else merged
        return None
    except (OSError, subprocess.TimeoutExpired):
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def rewrite(path: str, before: list[str], after: list[str], billed: str) -> Patch | None:
    """A patch (Codex text and unified diff) from ``before`` to ``after`` with two lines of context."""
    body: list[str] = []
    diff: list[str] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for group in matcher.get_grouped_opcodes(2):
        hunk: list[str] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                hunk += [" " + x for x in before[i1:i2]]
                continue
            hunk += ["-" + x for x in before[i1:i2]]
            hunk += ["+" + x for x in after[j1:j2]]
        old_start, new_start = group[0][1] + 1, group[0][3] + 1
        old_len = sum(1 for x in hunk if x[0] in " -")
        new_len = sum(1 for x in hunk if x[0] in " +")
        diff.append(f"@@ -{old_start},{old_len} +{new_start},{new_len} @@")
        diff += hunk
        body.append("@@")
        body += hunk
    if not body:
        return None
    text = f"*** Begin Patch\n{UPDATE}{path}\n" + "\n".join(body) + "\n*** End Patch\n"
    return Patch(path, text, "\n".join(diff) + "\n", billed=billed)


def _lines(data: bytes) -> list[str]:
    lines = data.decode("utf-8").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def rebase_story(story: Story, files: Files) -> int:
    """Rewrite the successful update patches of ``story`` that would not apply where the session is by then;
    ``files``: the repository at the session's commit. Returns how many patches were rewritten."""
    original = {path: _lines(data) for path, data in files.items()}
    state: dict[str, list[str] | None] = {}
    rewritten = 0
    for step in story.steps():
        if not isinstance(step, ApplyPatch) or step.error or step.declined or step.patch.path.startswith("/"):
            continue
        patch = step.patch
        path = patch.path
        if patch.kind == "add":
            state[path] = patch.diff.rstrip("\n").split("\n")
            continue
        if patch.kind == "delete":
            state[path] = None
            continue
        current = state[path] if path in state else original.get(path)
        base = original.get(path)
        if current is None or base is None:
            continue
        applied = codex_apply(current, patch.text)
        if applied is not None:
            state[path] = applied
            continue
        intended = codex_apply(base, patch.text)
        merged = _merge(base, current, intended) if intended is not None else None
        new = rewrite(path, current, merged, patch.billed or patch.text) if merged and merged != current else None
        if new is None:
            continue  # cannot be made consistent: left as the session recorded it
        step.patch = new
        state[path] = merged
        rewritten += 1
    return rewritten
