"""Find rollout files under ``$CODEX_HOME`` (sessions/, archived_sessions/) or explicit paths."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from ccl_tui.locations import codex_home

ROLLOUT_SUFFIXES = (".jsonl", ".jsonl.zst", ".jsonl.gz")


NOT_ROLLOUTS = frozenset({"history.jsonl", "session_index.jsonl"})


def is_rollout_name(name: str) -> bool:
    return name.startswith("rollout-") and name.endswith(ROLLOUT_SUFFIXES)


def is_jsonl_name(name: str) -> bool:
    return name.endswith(ROLLOUT_SUFFIXES) and name not in NOT_ROLLOUTS


def _walk(root: Path, accept: Callable[[str], bool] = is_rollout_name) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root, onerror=lambda _e: None):
        dirnames.sort()
        for name in sorted(filenames):
            if accept(name):
                yield Path(dirpath) / name


def find_rollouts(paths: Iterable[Path | str] | None = None) -> list[Path]:
    """Rollout files to ingest, deduplicated and in a stable order.

    A directory that looks like a Codex home (has ``sessions/`` or ``archived_sessions/``) is scanned in
    those two folders only for ``rollout-*.jsonl[.zst|.gz]`` (``history.jsonl`` and logs are not rollouts);
    any other directory is scanned recursively for ``*.jsonl[.zst|.gz]`` (files that turn out not to be
    rollouts are reported as such). Files named explicitly are taken whatever their name.
    """
    roots = [Path(p).expanduser() for p in paths] if paths else [codex_home()]
    seen: set[Path] = set()
    out: list[Path] = []
    for root in roots:
        if root.is_file():
            candidates: Iterable[Path] = [root]
        elif root.is_dir():
            subdirs = [root / "sessions", root / "archived_sessions"]
            if any(d.is_dir() for d in subdirs):
                candidates = (p for d in subdirs if d.is_dir() for p in _walk(d))
            else:
                candidates = _walk(root, is_jsonl_name)
        else:
            continue
        for p in candidates:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                out.append(p)
    return out


def has_rollouts(home: Path) -> bool:
    """Whether a Codex home holds at least one rollout (stops at the first one: cheap at startup)."""
    for sub in ("sessions", "archived_sessions"):
        d = home / sub
        if d.is_dir():
            for _ in _walk(d):
                return True
    return False
