"""Turn the session's recorded edits into a git-appliable unified diff.

Two sources, best first:

* ``patch_apply_end.changes`` (2026 rollouts): per file ``{"type": "update", "diff": "@@ -a,b +c,d @@..."}``,
  ``{"type": "add", "content": ...}``, ``{"type": "delete", "content": ...}`` with exact line numbers.
* the Codex patch text of the ``apply_patch`` call (every era)::

      *** Begin Patch
      *** Update File: src/app.py        (optional "*** Move to: new/path.py")
      @@ def handler():                   (optional context hint)
       context
      -old
      +new
      *** Add File: notes.txt
      +line
      *** Delete File: old.txt
      *** End Patch

  Its hunks carry no line numbers, so they are written as ``@@ -1,n +1,m @@`` and applied with
  ``git apply --unidiff-zero --recount``, which places every hunk by its context (as Codex itself does). A hunk
  without any context or removed line (Codex appends it at the end of the file) cannot be placed without the
  file and makes the edit unconvertible.

* files written by a shell redirection (``cat > f <<EOF``..., see shellwrites.py): the whole new content. A diff
  cannot replace a file without its old content, so the file is listed in ``Diff.overwritten`` and removed
  before the diff is applied (``setup-overwritten.txt`` / ``solution/overwritten-files``), and the diff adds it
  as a new file; earlier sections for that file are dropped (they are superseded). An append (``>>``) needs the
  file's content at that point, known only when the session wrote the whole file earlier.

Paths become relative to the repository root; a path outside the session's cwd or with ``..`` is rejected.
Relative paths of a patch run through the shell resolve against its working directory (``PatchRef.base_dir``).
Content is redacted before anything else is done with it: added text (a new file's content, each run of ``+``
lines) and a deleted file's content as one text, so a private key spanning lines goes as a whole (its body
becomes one marker line; ``--recount`` makes the hunk header agree), context and removed lines of a hunk one by
one (they must still match the file). The caller checks the whole diff for secrets that span lines and leaves
the diff out if one is left.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ccl_tui.tasks.model import PatchRef
from ccl_tui.tasks.paths import join_rel, rel_path
from ccl_tui.text.ansi import strip_control
from ccl_tui.text.redact import redact

#: How solve.sh and the environment apply the diffs (shared with check.py's local run).
GIT_APPLY_ARGS = ("apply", "--unidiff-zero", "--recount", "--ignore-whitespace", "--whitespace=nowarn")


class DiffError(ValueError):
    """An edit cannot be expressed as a safe, appliable unified diff."""


@dataclass(slots=True)
class Diff:
    """Unified diff sections (one per file operation) plus files deleted without recorded content, and files
    replaced whole (removed before the diff is applied, then added by it)."""

    sections: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # repo-relative paths for solve.sh to remove
    redacted: bool = False
    overwritten: list[str] = field(default_factory=list)  # repo-relative paths removed before applying

    @property
    def text(self) -> str:
        return "".join(self.sections)

    @property
    def empty(self) -> bool:
        return not (self.sections or self.deleted)

    def extend(self, other: Diff) -> None:
        for path in other.deleted:
            if path in self.deleted:
                continue
            self.deleted.append(path)
        self.sections.extend(other.sections)
        self.redacted = self.redacted or other.redacted
        for path in other.overwritten:
            if path not in self.overwritten:
                self.overwritten.append(path)


class _Lines:
    """Redacts content lines and remembers whether anything changed."""

    def __init__(self) -> None:
        self.redacted = False

    def clean(self, line: str) -> str:
        text = strip_control(line).replace("\n", " ")
        out = redact(text)
        if out != text:
            self.redacted = True
        return out

    def block(self, rows: list[str]) -> list[str]:
        """Consecutive lines redacted as one text: a credential spanning them goes as a whole, so fewer lines
        may come back (a private key's body becomes one marker line)."""
        text = "\n".join(strip_control(row).replace("\n", " ") for row in rows)
        out = redact(text)
        if out != text:
            self.redacted = True
        return out.split("\n")

    def body(self, rows: list[str]) -> list[str]:
        """Hunk rows (sign + text): each run of added rows as a block, context and removed rows one by one."""
        out: list[str] = []
        i = 0
        while i < len(rows):
            if rows[i][:1] == "+":
                j = i
                while j < len(rows) and rows[j][:1] == "+":
                    j += 1
                out.extend("+" + x for x in self.block([r[1:] for r in rows[i:j]]))
                i = j
                continue
            out.append(rows[i][:1] + self.clean(rows[i][1:]))
            i += 1
        return out


def _path(raw: str, cwd: str | None, prefix: str, base: str | None = None) -> str:
    raw = raw.strip()
    if base and raw and not raw.startswith("/"):
        raw = posixpath.normpath(posixpath.join(base, raw))
    rel = rel_path(raw, cwd)
    if rel is None and prefix and cwd and raw.startswith("/") and cwd.rstrip("/").endswith("/" + prefix.strip("/")):
        # outside the session's directory but inside its repository (a patch run from the repository root)
        root = cwd.rstrip("/")[: -len(prefix.strip("/")) - 1]
        above = rel_path(raw, root)
        if above is not None:
            return above
    if rel is None:
        raise DiffError(f"unsafe or out-of-repository path in an edit: {redact(strip_control(raw))[:120]!r}")
    return join_rel(prefix, rel)


def _header(old: str, new: str, kind: str = "update") -> str:
    head = f"diff --git a/{old} b/{new}\n"
    if kind == "add":
        return head + "new file mode 100644\n"
    if kind == "delete":
        return head + "deleted file mode 100644\n"
    if old != new:
        head += f"rename from {old}\nrename to {new}\n"
    return head


def _content_hunk(content: str, sign: str, lines: _Lines) -> str:
    body = content.split("\n")
    if body and body[-1] == "":
        body.pop()
        eof_newline = True
    else:
        eof_newline = False
    if not body:
        return ""
    body = lines.block(body)
    n = len(body)
    rng = f"-0,0 +1,{n}" if sign == "+" else f"-1,{n} +0,0"
    out = [f"@@ {rng} @@\n"] + [f"{sign}{x}\n" for x in body]
    if not eof_newline:
        out.append("\\ No newline at end of file\n")
    return "".join(out)


def _add(path: str, content: str, lines: _Lines) -> str:
    hunk = _content_hunk(content, "+", lines)
    if not hunk:
        return _header(path, path, "add")
    return _header(path, path, "add") + f"--- /dev/null\n+++ b/{path}\n" + hunk


def _delete(path: str, content: str, lines: _Lines) -> str:
    hunk = _content_hunk(content, "-", lines)
    if not hunk:
        return _header(path, path, "delete")
    return _header(path, path, "delete") + f"--- a/{path}\n+++ /dev/null\n" + hunk


def from_changes(changes: dict[str, Any], cwd: str | None, prefix: str = "", base: str | None = None) -> Diff:
    """Diff from a ``patch_apply_end`` changes map; DiffError when an entry lacks its diff or content."""
    diff = Diff()
    lines = _Lines()
    for raw_path, change in changes.items():
        if not isinstance(change, dict):
            raise DiffError("malformed change record")
        path = _path(str(raw_path), cwd, prefix, base)
        kind = change.get("type")
        if kind == "add" and isinstance(change.get("content"), str):
            diff.sections.append(_add(path, change["content"], lines))
        elif kind == "delete" and isinstance(change.get("content"), str):
            diff.sections.append(_delete(path, change["content"], lines))
        elif kind == "update" and isinstance(change.get("diff"), str):
            new = _path(str(change["move_path"]), cwd, prefix, base) if change.get("move_path") else path
            hunks = _hunks_of_unified(change["diff"], lines)
            diff.sections.append(_header(path, new) + f"--- a/{path}\n+++ b/{new}\n" + hunks)
        else:
            raise DiffError(f"change record for {path} has no diff/content")
    diff.redacted = lines.redacted
    return diff


def _hunks_of_unified(text: str, lines: _Lines) -> str:
    out: list[str] = []
    rows: list[str] = []  # content rows of the current hunk, redacted together when it ends

    def flush() -> None:
        out.extend(row + "\n" for row in lines.body(rows))
        rows.clear()

    started = False
    for line in text.split("\n"):
        if line.startswith("@@"):
            flush()
            started = True
            out.append(line.replace("\r", "") + "\n")
        elif not started:
            continue  # ---/+++ headers some builds include
        elif line[:1] in (" ", "+", "-"):
            rows.append(line)
        elif line.startswith("\\"):
            flush()
            out.append("\\ No newline at end of file\n")
        elif line == "":
            continue
        else:
            raise DiffError("unexpected line in a recorded unified diff")
    flush()
    if not started:
        raise DiffError("recorded diff has no hunks")
    return "".join(out)


def from_codex_patch(patch: str, cwd: str | None, prefix: str = "", base: str | None = None) -> Diff:
    """Diff from Codex's apply_patch text; DiffError when it cannot be converted faithfully."""
    diff = Diff()
    lines = _Lines()
    rows = patch.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(rows) and rows[i].strip() != "*** Begin Patch":
        i += 1
    if i == len(rows):
        raise DiffError("no '*** Begin Patch' marker")
    i += 1
    ended = False
    while i < len(rows):
        row = rows[i]
        if row.strip() == "*** End Patch":
            ended = True
            break
        if row.startswith("*** Add File: "):
            path = _path(row[len("*** Add File: ") :], cwd, prefix, base)
            i += 1
            body: list[str] = []
            while i < len(rows) and rows[i].startswith("+"):
                body.append(rows[i][1:])
                i += 1
            diff.sections.append(_add(path, "".join(x + "\n" for x in body), lines))
            continue
        if row.startswith("*** Delete File: "):
            diff.deleted.append(_path(row[len("*** Delete File: ") :], cwd, prefix, base))
            i += 1
            continue
        if row.startswith("*** Update File: "):
            path = _path(row[len("*** Update File: ") :], cwd, prefix, base)
            i += 1
            new = path
            if i < len(rows) and rows[i].startswith("*** Move to: "):
                new = _path(rows[i][len("*** Move to: ") :], cwd, prefix, base)
                i += 1
            hunks, i = _codex_hunks(rows, i, lines)
            if not hunks and new == path:
                raise DiffError(f"update of {path} has no hunks")
            section = _header(path, new)
            if hunks:
                section += f"--- a/{path}\n+++ b/{new}\n" + hunks
            diff.sections.append(section)
            continue
        if row.strip() == "":
            i += 1
            continue
        raise DiffError("unexpected line in an apply_patch body")
    if not ended:
        raise DiffError("patch text ends without '*** End Patch' (truncated?)")
    diff.redacted = lines.redacted
    if any(path in diff.deleted for path in _paths_of(diff.sections)):
        raise DiffError("a file is both deleted and edited in the same patch")
    return diff


def _codex_hunks(rows: list[str], i: int, lines: _Lines) -> tuple[str, int]:
    hunks: list[str] = []
    hint = ""
    body: list[str] = []
    started = False

    def flush() -> None:
        if not body:
            return
        rows = lines.body(body)
        old = sum(1 for x in rows if x[0] in " -")
        new = sum(1 for x in rows if x[0] in " +")
        if old == 0:
            raise DiffError("a hunk without context cannot be placed without the file")
        suffix = f" {lines.clean(hint)}" if hint else ""
        hunks.append(f"@@ -1,{old} +1,{new} @@{suffix}\n" + "".join(x + "\n" for x in rows))
        body.clear()

    while i < len(rows):
        row = rows[i]
        if row.startswith("*** ") and row.strip() != "*** End of File":
            break
        if row.strip() == "*** End of File":
            i += 1
            continue
        if row.startswith("@@"):
            flush()
            hint = row[2:].strip()
            started = True
        elif row[:1] in (" ", "+", "-"):
            body.append(row)
            started = True
        elif row == "":
            if started:
                body.append(" ")
        else:
            raise DiffError("unexpected line in an apply_patch hunk")
        i += 1
    while body and body[-1] == " ":  # blank lines before the next file header are separators
        body.pop()
    flush()
    return "".join(hunks), i


def _paths_of(sections: list[str]) -> set[str]:
    out: set[str] = set()
    for s in sections:
        first = s.split("\n", 1)[0]
        if first.startswith("diff --git a/"):
            out.add(first[len("diff --git a/") :].split(" b/", 1)[0])
    return out


def diff_of(ref: PatchRef, cwd: str | None, prefix: str = "") -> Diff:
    """The best diff for one applied patch: exact recorded changes, else the converted Codex patch."""
    errors: list[str] = []
    if ref.changes:
        try:
            return from_changes(ref.changes, cwd, prefix, ref.base_dir)
        except DiffError as exc:
            errors.append(str(exc))
    if ref.patch_text and not ref.patch_truncated:
        try:
            return from_codex_patch(ref.patch_text, cwd, prefix, ref.base_dir)
        except DiffError as exc:
            errors.append(str(exc))
    elif ref.patch_truncated:
        errors.append("the recorded patch text was truncated")
    else:
        errors.append("no patch text or diff was recorded")
    raise DiffError(f"edit at event {ref.seq}: " + "; ".join(errors))


def _section_paths(section: str) -> tuple[str, str]:
    first = section.split("\n", 1)[0]
    if not first.startswith("diff --git a/"):
        return "", ""
    old, _, new = first[len("diff --git a/") :].partition(" b/")
    return old, new


def _write(out: Diff, path: str, content: str, seq: int, lines: _Lines) -> None:
    """Replace ``path`` whole in ``out``: earlier sections for it are superseded, it is removed first."""
    kept: list[str] = []
    for section in out.sections:
        old, new = _section_paths(section)
        if path in (old, new):
            if old != new:
                raise DiffError(f"edit at event {seq}: a shell write replaces {path}, which an earlier edit renamed")
            continue
        kept.append(section)
    out.sections = kept
    if path in out.deleted:
        out.deleted.remove(path)
    if path not in out.overwritten:
        out.overwritten.append(path)
    out.sections.append(_add(path, content, lines))


class Contents:
    """What combining edits knows of files' contents: what a write or a replayed Edit left, what a patch made
    unknown, and, for the rest, the start commit's (``read``: path from the repository root -> text, or None).
    Shared by the start state and the solution, which continues from it."""

    def __init__(self, read: Callable[[str], str | None] | None = None) -> None:
        self.known: dict[str, str] = {}
        self.patched: set[str] = set()  # changed by a patch since the commit: its content is not known here
        self._read = read

    def get(self, path: str) -> str | None:
        if path in self.known:
            return self.known[path]
        if path in self.patched or self._read is None:
            return None
        return self._read(path)


def combine(refs: list[PatchRef], cwd: str | None, prefix: str = "", contents: Contents | None = None) -> Diff:
    """One diff for several edits (patches, shell writes, Claude Code's Write and Edit), in session order."""
    out = Diff()
    state = contents if contents is not None else Contents()
    known = state.known  # content of files a write replaced whole, while nothing else changed them
    lines = _Lines()
    for ref in refs:
        if ref.replacements is not None:  # Claude Code's Edit / MultiEdit: text replaced in a known content
            for raw, old, new, every in ref.replacements:
                path = _path(raw, cwd, prefix, ref.base_dir)
                found = state.get(path)
                if found is None:
                    raise DiffError(
                        f"edit at event {ref.seq}: {ref.what} of {path}, whose content at that point was not recorded"
                    )
                content = found
                if not old or old not in content or (not every and content.count(old) > 1):
                    raise DiffError(f"edit at event {ref.seq}: {ref.what} of {path} does not match its content")
                content = content.replace(old, new) if every else content.replace(old, new, 1)
                _write(out, path, content, ref.seq, lines)
                known[path] = content
            continue
        if ref.writes is not None:
            for raw, content, append in ref.writes:
                path = _path(raw, cwd, prefix, ref.base_dir)
                if append:
                    if path not in known:
                        raise DiffError(
                            f"edit at event {ref.seq}: a shell write appends to {path}, whose content at"
                            " that point was not recorded"
                        )
                    content = known[path] + content
                _write(out, path, content, ref.seq, lines)
                known[path] = content
            continue
        d = diff_of(ref, cwd, prefix)
        if any(path in out.deleted for path in _paths_of(d.sections)):
            raise DiffError(f"edit at event {ref.seq} touches a file an earlier edit deleted")
        for section in d.sections:
            for path in _section_paths(section):
                known.pop(path, None)
                state.patched.add(path)
        for path in d.deleted:
            known.pop(path, None)
            state.patched.add(path)
        out.extend(d)
    out.redacted = out.redacted or lines.redacted
    return out
