"""Which ccl-tui issue a Harbor trial measured.

In order of trust:
1. ``metadata`` - the task folder the trial ran (``task_id.path``, or a folder of that name in one of the
   tasks folders given) has a ``task.toml`` written by ccl-tui: its ``[metadata.issue].id``, or for a task
   written from one signal, ``[metadata.source]`` (session id and event seq).
2. ``name`` - the task name ccl-tui gives an issue's task: ``ccl-i-<10 hex>-<title>``.
3. ``signal`` - the name of a task written from one signal: ``ccl-signal-<session id prefix>-<seq>-<kind>``.
Signal references are resolved to issues by the caller (it needs the store).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_ISSUE_NAME = re.compile(r"^(?:[\w.-]+/)?ccl-i-([0-9a-f]{10})(?:-|$)")
_SIGNAL_NAME = re.compile(r"^(?:[\w.-]+/)?ccl-(?:signal|keep-green)-([0-9a-f][0-9a-f-]{5,12})-(\d+)(?:-|$)")


@dataclass(slots=True)
class Match:
    issue_id: str | None = None
    session_id: str | None = None  # a signal task: full id or (from a name) a prefix
    seq: int | None = None
    how: str = ""


def _task_metadata(task_dir: Path) -> dict[str, Any] | None:
    try:
        doc = tomllib.loads((task_dir / "task.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    meta = doc.get("metadata")
    if not isinstance(meta, dict) or meta.get("generator") != "ccl-tui":
        return None
    return meta


def from_metadata(meta: dict[str, Any]) -> Match | None:
    issue = meta.get("issue")
    if isinstance(issue, dict) and isinstance(issue.get("id"), str) and issue["id"].startswith("I-"):
        return Match(issue_id=issue["id"], how="metadata")
    source = meta.get("source")
    if isinstance(source, dict) and isinstance(source.get("session_id"), str):
        seq = source.get("signal_seq")
        if isinstance(seq, int) and not isinstance(seq, bool):
            return Match(session_id=source["session_id"], seq=seq, how="metadata")
    return None


def from_name(task_name: str) -> Match | None:
    if m := _ISSUE_NAME.match(task_name):
        return Match(issue_id="I-" + m.group(1), how="name")
    if m := _SIGNAL_NAME.match(task_name):
        return Match(session_id=m.group(1), seq=int(m.group(2)), how="signal")
    return None


def match_trial(task_name: str, task_path: str | None, task_dirs: Iterable[Path] = ()) -> Match | None:
    """Where the trial's task came from, or None when it is not a ccl-tui task."""
    candidates: list[Path] = []
    if task_path:
        candidates.append(Path(task_path))
    leaf = task_name.rsplit("/", 1)[-1]
    if leaf and leaf not in (".", ".."):
        candidates.extend(Path(d) / leaf for d in task_dirs)
    for folder in candidates:
        meta = _task_metadata(folder)
        if meta is not None and (m := from_metadata(meta)) is not None:
            return m
    return from_name(task_name)
