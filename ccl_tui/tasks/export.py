"""``ccl-tui tasks export``: the top issues (and optionally delight moments) as a Harbor dataset folder.

The folder holds one task directory per issue and a ``ccl-tui-dataset.json`` manifest; Harbor treats it as a
local dataset (``harbor run -p DIR -a oracle``) and ignores the manifest file.

What is written follows the task contract (contract.py): ``top`` counts proven fix tasks only; keep-green tasks
are written only with ``include_keep_green`` (or ``include_delight``), unproven ones only with
``include_unproven``; refused ones (checks that depend on the host) never. The report and the manifest list
each class separately, with the reason for every task that was not written.
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
from ccl_tui.model.signals import Signal, SignalKind
from ccl_tui.scope import USER_ORIGINS
from ccl_tui.store.db import Store
from ccl_tui.tasks import contract
from ccl_tui.tasks.api import issue_task_name, signal_task_name, write_issue_task, write_task_for_signal
from ccl_tui.tasks.check import task_contract
from ccl_tui.tasks.model import TaskError, TaskPlan, TaskRefused, TaskResult, TaskSkipped
from ccl_tui.tasks.text import clean_line

MANIFEST = "ccl-tui-dataset.json"
EXISTS = "already exists in the folder (use --force to replace it)"
#: Which delight signal makes the best keep-green task, best first.
DELIGHT_PREFERENCE = (
    SignalKind.FIRST_ATTEMPT_SUCCESS,
    SignalKind.FAST_COMPLETION,
    SignalKind.POSITIVE_FEEDBACK,
    SignalKind.ZERO_DENIALS,
)


@dataclass(slots=True)
class ExportReport:
    out_dir: Path
    tasks: list[TaskResult] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)  # no task: the check depends on the host

    def counts(self) -> dict[str, int]:
        """Tasks written per contract class, plus refused and otherwise skipped plans."""
        out = dict.fromkeys((contract.PROVEN_FIX, contract.KEEP_GREEN, contract.UNPROVEN), 0)
        for t in self.tasks:
            cls = t.contract.cls if t.contract is not None else contract.UNPROVEN
            out[cls] = out.get(cls, 0) + 1
        out[contract.REFUSED] = len(self.refused)
        out["not_written"] = len(self.skipped)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "counts": self.counts(),
            "tasks": [t.to_json() for t in self.tasks],
            "skipped": self.skipped,
            "refused": self.refused,
            "manifest": str(self.out_dir / MANIFEST),
        }


@dataclass(slots=True)
class _Policy:
    keep_green: bool
    unproven: bool
    written: dict[tuple[str, int, str], str] = field(default_factory=dict)  # (session, state, check) -> task

    def accept(self, c: contract.Contract, plan: TaskPlan) -> str | None:
        """None to write a task of this contract, else why it is not written."""
        same = self.written.get((plan.session_id, plan.start_state, " ".join(plan.verifier.command.split())))
        if same is not None:
            return f"the same task as {same} (same session, start state and check)"
        if c.cls == contract.KEEP_GREEN and not self.keep_green:
            return f"keep-green ({c.evidence}): {c.reason}. Export it with --include-keep-green"
        if c.cls == contract.UNPROVEN and not self.unproven:
            return (
                f"unproven {c.planned}: {c.reason}. Write it with --include-unproven, then prove it with"
                " `ccl-tui tasks check --execute`"
            )
        return None

    def wrote(self, result: TaskResult) -> TaskResult:
        if result.session_id and result.start_state is not None:
            self.written[(result.session_id, result.start_state, result.verifier_key)] = result.name
        return result


def _not_written(exc: TaskError, what: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    """(refused?, the report entry) for a plan that was not written."""
    entry = dict(what)
    if isinstance(exc, TaskSkipped):
        c = exc.contract
        entry["class"] = contract.REFUSED if isinstance(exc, TaskRefused) else (c.cls if c is not None else None)
        entry["reason"] = clean_line(exc.reason if isinstance(exc, TaskRefused) else str(exc), 600)
        if c is not None:
            entry["evidence"] = c.evidence
            entry["planned"] = c.planned
    else:
        entry["class"] = None
        entry["reason"] = clean_line(str(exc), 500)
    return isinstance(exc, TaskRefused), entry


def _existing(out_dir: Path, names: list[str]) -> Path | None:
    return next((out_dir / n for n in names if (out_dir / n).exists()), None)


async def export_tasks(
    store: Store,
    out_dir: Path | str,
    top: int,
    *,
    include_delight: bool = False,
    include_keep_green: bool = False,
    include_unproven: bool = False,
    force: bool = False,
    allow_local: bool = True,
) -> ExportReport:
    """Write proven fix tasks for the ``top`` highest-impact issues that have one, up to ``top`` of the
    sessions' recorded red -> green loops, and with ``include_keep_green`` (alias ``include_delight``) keep-green
    tasks (from the issues, and up to ``top`` from delight signals). ``include_unproven`` also writes tasks
    whose verifier was never seen failing at the start (to prove with ``tasks check --execute``).
    Call ``pipeline.refresh(store)`` first."""
    report = ExportReport(Path(out_dir))
    policy = _Policy(keep_green=include_keep_green or include_delight, unproven=include_unproven)
    present = 0  # proven fix tasks already in the folder count towards ``top`` (no silent top-up)
    for issue in await store.issues():
        if present + sum(1 for t in report.tasks if t.flavour == "fix") >= top:
            break
        found = (
            None
            if force
            else await asyncio.to_thread(
                _existing, report.out_dir, [issue_task_name(issue), issue_task_name(issue, True)]
            )
        )
        if found is not None:
            existing, _record = await asyncio.to_thread(task_contract, found)
            if existing is None or existing.cls == contract.PROVEN_FIX:
                present += 1
            report.skipped.append(
                {
                    "issue_id": issue.id,
                    "title": clean_line(issue.title, 200),
                    "reason": EXISTS,
                    "class": existing.cls if existing is not None else None,
                }
            )
            continue
        try:
            report.tasks.append(
                policy.wrote(
                    await write_issue_task(
                        store, issue, report.out_dir, force=force, allow_local=allow_local, accept=policy.accept
                    )
                )
            )
        except TaskError as exc:
            refused, entry = _not_written(exc, {"issue_id": issue.id, "title": clean_line(issue.title, 200)})
            (report.refused if refused else report.skipped).append(entry)
    # The sessions' own red -> green loops (a check the agent announced would fail, then made pass): not
    # friction, but the best-proven fix tasks there are, since the session recorded both states.
    await _export_signals(
        store, report, (SignalKind.EXPECTED_FAILURE,), top, policy, force=force, allow_local=allow_local
    )
    if policy.keep_green:
        await _export_signals(store, report, DELIGHT_PREFERENCE, top, policy, force=force, allow_local=allow_local)
    await asyncio.to_thread(_write_manifest, report)
    return report


async def _export_signals(
    store: Store,
    report: ExportReport,
    kinds: tuple[str, ...],
    top: int,
    policy: _Policy,
    *,
    force: bool,
    allow_local: bool,
) -> None:
    """Up to ``top`` tasks written from signals of ``kinds`` (one per session, see :func:`_candidates`); tasks
    already in the folder count towards ``top``."""
    written = 0
    for sig in await _candidates(store, kinds):
        if written >= top:
            break
        names = [signal_task_name(sig.session_id, sig.seq, sig.kind, kg) for kg in (False, True)]
        if not force and await asyncio.to_thread(_existing, report.out_dir, names) is not None:
            written += 1
            report.skipped.append({"session_id": sig.session_id, "seq": sig.seq, "kind": sig.kind, "reason": EXISTS})
            continue
        try:
            report.tasks.append(
                policy.wrote(
                    await write_task_for_signal(
                        store,
                        sig.session_id,
                        sig.seq,
                        report.out_dir,
                        force=force,
                        allow_local=allow_local,
                        accept=policy.accept,
                    )
                )
            )
            written += 1
        except TaskError as exc:
            refused, entry = _not_written(exc, {"session_id": sig.session_id, "seq": sig.seq, "kind": sig.kind})
            (report.refused if refused else report.skipped).append(entry)


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

    current, record = task_contract(task)
    planned = contract.Contract.from_json(meta.get("contract"))
    return {
        "name": task.name,
        "issue_id": table("issue").get("id"),
        "session_id": table("source").get("session_id"),
        "flavour": current.flavour if current is not None else meta.get("task_flavour"),
        "class": current.cls if current is not None else None,
        "evidence": current.evidence if current is not None else None,
        "reason": current.reason if current is not None else "",
        "planned_class": planned.cls if planned is not None else None,
        "checked": record is not None,
        "environment_mode": table("environment").get("mode"),
        "network_mode": table("environment").get("network_mode", "public"),
        "needs_repository": meta.get("needs_repository"),
        "has_solution": table("solution").get("available"),
        "valid": valid.get(task.name),
    }


def _write_manifest(report: ExportReport) -> None:
    """Describe every ccl-tui task in the folder (earlier exports included), plus what this run skipped or
    refused."""
    report.out_dir.mkdir(parents=True, exist_ok=True)
    valid = {t.name: t.valid for t in report.tasks}
    children = sorted(p for p in report.out_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    tasks = [e for e in (_entry(p, valid) for p in children) if e is not None]
    counts = dict.fromkeys((contract.PROVEN_FIX, contract.KEEP_GREEN, contract.UNPROVEN), 0)
    for e in tasks:
        if e["class"] in counts:
            counts[e["class"]] += 1
    counts[contract.REFUSED] = len(report.refused)
    doc = {
        "generator": "ccl-tui",
        "ccl_tui_version": __version__,
        "usage": "harbor run -p <this folder> -a oracle   (or -a codex -m openai/<model>)",
        "counts": counts,
        "tasks": tasks,
        "skipped": report.skipped,
        "refused": report.refused,
    }
    path = report.out_dir / MANIFEST
    tmp = path.with_name(f".{MANIFEST}.tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
