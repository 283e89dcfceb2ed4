"""Find session files: Codex rollouts under ``$CODEX_HOME`` (sessions/, archived_sessions/), Claude Code
sessions under ``$CLAUDE_CONFIG_DIR`` (default ``~/.claude``; ``projects/``), or explicit paths.

Discovery never follows a directory symlink, never opens anything but a regular file (a FIFO or a link to
``/dev/zero`` named ``rollout-*.jsonl`` would block or never end), survives symlink loops and file names that
are not UTF-8, and reports everything it passed over (an unreadable folder, a loop, a device) instead of
skipping it without a word. Paths are made absolute, so the same folder given as ``./x`` and ``/home/me/x``
is one set of files.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ccl_tui.locations import default_homes

ROLLOUT_SUFFIXES = (".jsonl", ".jsonl.zst", ".jsonl.gz")


NOT_ROLLOUTS = frozenset({"history.jsonl", "session_index.jsonl"})


def is_rollout_name(name: str) -> bool:
    return name.startswith("rollout-") and name.endswith(ROLLOUT_SUFFIXES)


def is_jsonl_name(name: str) -> bool:
    return name.endswith(ROLLOUT_SUFFIXES) and name not in NOT_ROLLOUTS


@dataclass
class Discovery:
    paths: list[str] = field(default_factory=list)  # absolute, in a stable order (strings: cheap for 100k files)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)

    @property
    def files(self) -> list[Path]:
        return [Path(p) for p in self.paths]


def _shown(path: str) -> str:
    """A path for messages even when its name is not valid UTF-8."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _walk(root: Path, accept: Callable[[str], bool], found: Discovery) -> Iterable[Path]:
    for path, _ in _walk_entries(root, accept, found):
        yield Path(path)


def _walk_entries(root: Path, accept: Callable[[str], bool], found: Discovery) -> Iterable[tuple[str, bool]]:
    """(path, is a plain regular file) for each accepted name under ``root``, in a stable order. Directory
    symlinks are never followed; a plain regular file needs no stat of its own (the directory listing says
    what it is), only symlinks and odd entries are looked at further by the caller."""
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            found.skipped.append((_shown(str(exc.filename or folder)), f"cannot read folder: {exc.strerror or exc}"))
            continue
        subdirs = []
        for e in entries:
            try:
                if e.is_dir(follow_symlinks=False):
                    subdirs.append(e.path)
                    continue
                plain = e.is_file(follow_symlinks=False)
            except OSError:
                plain = False
            if accept(e.name):
                yield e.path, plain
        stack.extend(reversed(subdirs))


def _utf8(text: str, found: Discovery) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        found.skipped.append((_shown(text), "file name is not valid UTF-8"))
        return False
    return True


def _usable(p: Path, found: Discovery) -> bool:
    """A regular file with a name SQLite and the terminal can hold; anything else is reported."""
    text = str(p)
    if not _utf8(text, found):
        return False
    try:
        st = os.stat(p)  # follows a file symlink: the target must be a regular file
    except OSError as exc:
        why = "symlink loop" if exc.errno == errno.ELOOP else f"cannot stat: {exc.strerror or exc}"
        found.skipped.append((text, why))
        return False
    if not stat.S_ISREG(st.st_mode):
        found.skipped.append((text, "not a regular file (FIFO, device, socket or folder)"))
        return False
    return True


def discover(paths: Iterable[Path | str] | None = None) -> Discovery:
    """Rollout files to ingest, deduplicated and in a stable order, and what was passed over, with why.

    A directory that looks like a Codex home (has ``sessions/`` or ``archived_sessions/``) is scanned in
    those two folders only for ``rollout-*.jsonl[.zst|.gz]`` (``history.jsonl`` and logs are not rollouts);
    any other directory is scanned recursively for ``*.jsonl[.zst|.gz]`` (files that turn out not to be
    rollouts are reported as such). Files named explicitly are taken whatever their name.
    """
    found = Discovery()
    roots = [Path(os.path.abspath(Path(p).expanduser())) for p in (paths or default_homes())]
    seen: set[str] = set()
    for root in roots:
        try:
            is_dir = root.is_dir()
            is_file = not is_dir and (root.is_file() or root.is_symlink() or root.exists())
        except OSError as exc:
            found.skipped.append((_shown(str(root)), f"cannot read: {exc.strerror or exc}"))
            continue
        if is_file:
            candidates: Iterable[tuple[str, bool]] = [(str(root), False)]
        elif is_dir:
            subdirs = [root / "sessions", root / "archived_sessions"]
            if any(d.is_dir() for d in subdirs):
                candidates = (e for d in subdirs if d.is_dir() for e in _walk_entries(d, is_rollout_name, found))
            elif (root / "projects").is_dir():
                candidates = _walk_entries(root / "projects", is_jsonl_name, found)  # a Claude Code home
            else:
                candidates = _walk_entries(root, is_jsonl_name, found)
        else:
            if paths:  # named by the user: say so (a missing default Codex home is normal)
                found.skipped.append((_shown(str(root)), "no such file or folder"))
            continue
        real_dirs: dict[str, str] = {}
        for path, plain in candidates:
            if plain:
                # A regular file reached without a symlink: its real path is its real folder plus its name.
                if not _utf8(path, found):
                    continue
                folder, name = os.path.split(path)
                real = real_dirs.get(folder)
                if real is None:
                    real = real_dirs[folder] = os.path.realpath(folder)
                key = os.path.join(real, name)
            else:
                if not _usable(Path(path), found):
                    continue
                try:
                    key = os.path.realpath(path)  # a copy reached through a file symlink is the same file
                except (OSError, RuntimeError):
                    key = path
            if key not in seen:
                seen.add(key)
                found.paths.append(path)
    return found


def find_rollouts(paths: Iterable[Path | str] | None = None) -> list[Path]:
    """The files of :func:`discover` (what it skipped is dropped: use ``discover`` to report it)."""
    return discover(paths).files


def has_rollouts(home: Path) -> bool:
    """Whether a Codex home holds at least one rollout, or a Claude Code home one session (stops at the first
    one: cheap at startup)."""
    found = Discovery()
    for sub, accept in (
        ("sessions", is_rollout_name),
        ("archived_sessions", is_rollout_name),
        ("projects", is_jsonl_name),
    ):
        d = home / sub
        if d.is_dir():
            for _ in _walk(d, accept, found):
                return True
    return False
