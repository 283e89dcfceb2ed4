"""``ccl-tui tasks export``: the top issues (and optionally delight moments) as a Harbor dataset folder.

The folder holds one task directory per issue and a ``ccl-tui-dataset.json`` manifest; Harbor treats it as a
local dataset (``harbor run -p DIR -a oracle``) and ignores the manifest file.
"""

from __future__ import annotations

import asyncio
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccl_tui import __version__
from ccl_tui.pipeline import USER_ORIGINS
from ccl_tui.signals.model import Signal, SignalKind
from ccl_tui.store.db import Store
from ccl_tui.tasks.api import issue_task_name, signal_task_name, write_issue_task, write_task_for_signal
from ccl_tui.tasks.model import TaskError, TaskResult
from ccl_tui.tasks.text import clean_line

MANIFEST = "ccl-tui-dataset.json"
EXISTS = "already exists in the folder (use --force to replace it)"
#: Which delight signal makes the best keep-green task, best first.
DELIGHT_PREFERENCE = (SignalKind.FIRST_ATTEMPT_SUCCESS, SignalKind.FAST_COMPLETION, SignalKind.POSITIVE_FEEDBACK,
                      SignalKind.ZERO_DENIALS)  # fmt: skip


@dataclass(slots=True)
class ExportReport:
    out_dir: Path
    tasks: list[TaskResult] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "tasks": [t.to_json() for t in self.tasks],
            "skipped": self.skipped,
            "manifest": str(self.out_dir / MANIFEST),
        }


async def export_tasks(store: Store, out_dir: Path | str, top: int, *, include_delight: bool = False,
                       force: bool = False, allow_local: bool = True) -> ExportReport:  # fmt: skip
    """Write tasks for the ``top`` highest-impact issues that have something to verify, up to ``top`` of the
    sessions' recorded red -> green loops, and with ``include_delight`` up to ``top`` keep-green tasks.
    Call ``pipeline.refresh(store)`` first."""
    report = ExportReport(Path(out_dir))
    present = 0  # tasks already in the folder count towards ``top`` (no silent top-up from lower ranks)
    for issue in await store.issues():
        if present + sum(1 for t in report.tasks if t.flavour == "fix") >= top:
            break
        if not force and await asyncio.to_thread((report.out_dir / issue_task_name(issue)).exists):
            present += 1
            report.skipped.append({"issue_id": issue.id, "title": clean_line(issue.title, 200), "reason": EXISTS})
            continue
        try:
            report.tasks.append(await write_issue_task(store, issue, report.out_dir, force=force,
                                                       allow_local=allow_local))  # fmt: skip
        except TaskError as exc:
            report.skipped.append({"issue_id": issue.id, "title": clean_line(issue.title, 200),
                                   "reason": clean_line(str(exc), 500)})
    # The sessions' own red -> green loops (a check the agent announced would fail, then made pass): not
    # friction, but the best-proven fix tasks there are, since the session recorded both states.
    await _export_signals(store, report, (SignalKind.EXPECTED_FAILURE,), top, force=force, allow_local=allow_local)
    if include_delight:
        await _export_signals(store, report, DELIGHT_PREFERENCE, top, force=force, allow_local=allow_local)
    await asyncio.to_thread(_write_manifest, report)
    return report


async def _export_signals(store: Store, report: ExportReport, kinds: tuple[str, ...], top: int, *, force: bool,
                          allow_local: bool) -> None:  # fmt: skip
    """Up to ``top`` tasks written from signals of ``kinds`` (one per session, see :func:`_candidates`); tasks
    already in the folder count towards ``top``."""
    written = 0
    for sig in await _candidates(store, kinds):
        if written >= top:
            break
        name = signal_task_name(sig.session_id, sig.seq, sig.kind)
        if not force and await asyncio.to_thread((report.out_dir / name).exists):
            written += 1
            report.skipped.append({"session_id": sig.session_id, "seq": sig.seq, "kind": sig.kind, "reason": EXISTS})
            continue
        try:
            report.tasks.append(await write_task_for_signal(store, sig.session_id, sig.seq, report.out_dir,
                                                            force=force, allow_local=allow_local))  # fmt: skip
            written += 1
        except TaskError as exc:
            report.skipped.append({"session_id": sig.session_id, "seq": sig.seq, "kind": sig.kind,
                                   "reason": clean_line(str(exc), 500)})  # fmt: skip


async def _candidates(store: Store, preference: tuple[str, ...]) -> list[Signal]:
    """One signal of the ``preference`` kinds per user session (the most preferred kind), newest sessions
    first, repositories interleaved for variety."""
    infos = await store.session_infos()
    rank = {k: i for i, k in enumerate(preference)}
    best: dict[str, Signal] = {}
    for sig in await store.signals(kinds=list(preference)):
        info = infos.get(sig.session_id)
        if info is None or info.origin not in USER_ORIGINS:
            continue
        cur = best.get(sig.session_id)
        if cur is None or rank.get(sig.kind, 99) < rank.get(cur.kind, 99):
            best[sig.session_id] = sig
    ordered = sorted(best.values(), key=lambda s: (rank.get(s.kind, 99), -_ts(infos[s.session_id].started_at)))
    by_repo: dict[str, list[Signal]] = {}
    for sig in ordered:
        by_repo.setdefault(infos[sig.session_id].repo, []).append(sig)
    out: list[Signal] = []
    while any(by_repo.values()):
        for queue in by_repo.values():
            if queue:
                out.append(queue.pop(0))
    return out


def _ts(value: str | None) -> float:
    from datetime import datetime

    try:
        return datetime.fromisoformat((value or "").replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _entry(task: Path, valid: dict[str, bool | None]) -> dict[str, Any] | None:
    try:
        meta = tomllib.loads((task / "task.toml").read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    if not isinstance(meta, dict) or meta.get("generator") != "ccl-tui":
        return None

    def table(key: str) -> dict[str, Any]:
        value = meta.get(key)
        return value if isinstance(value, dict) else {}

    return {"name": task.name, "issue_id": table("issue").get("id"), "session_id": table("source").get("session_id"),
            "flavour": meta.get("task_flavour"), "environment_mode": table("environment").get("mode"),
            "needs_repository": meta.get("needs_repository"), "has_solution": table("solution").get("available"),
            "valid": valid.get(task.name)}  # fmt: skip


def _write_manifest(report: ExportReport) -> None:
    """Describe every ccl-tui task in the folder (earlier exports included), plus what this run skipped."""
    report.out_dir.mkdir(parents=True, exist_ok=True)
    valid = {t.name: t.valid for t in report.tasks}
    children = sorted(p for p in report.out_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    doc = {
        "generator": "ccl-tui",
        "ccl_tui_version": __version__,
        "usage": "harbor run -p <this folder> -a oracle   (or -a codex -m openai/<model>)",
        "tasks": [e for e in (_entry(p, valid) for p in children) if e is not None],
        "skipped": report.skipped,
    }
    path = report.out_dir / MANIFEST
    tmp = path.with_name(f".{MANIFEST}.tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
