"""SQL of the results layer: imported Harbor runs, their trials, and fix dates. Async on ``store.db``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite
import orjson

from ccl_tui.model.results import Fix, Run, Trial
from ccl_tui.store.db import StoreError, scalar
from ccl_tui.store.tx import atransaction, one, rows, select_in

_NOW = "strftime('%Y-%m-%dT%H:%M:%SZ','now')"
_TRIAL_COLUMNS = (
    "trial_id",
    "trial_name",
    "task_name",
    "task_path",
    "task_checksum",
    "reward",
    "rewards",
    "exception_type",
    "exception_message",
    "agent",
    "agent_version",
    "model",
    "started_at",
    "finished_at",
    "cost_usd",
    "input_tokens",
    "output_tokens",
    "issue_id",
    "match",
)


def _run(row: Sequence[Any]) -> Run:
    return Run(
        label=row[0],
        job_id=row[1],
        job_dir=row[2],
        started_at=row[3],
        finished_at=row[4],
        agent=row[5],
        model=row[6],
        imported_at=row[7],
        trials=row[8],
        provenance=row[9],
    )


_RUN_SELECT = (
    "SELECT r.label, r.job_id, r.job_dir, r.started_at, r.finished_at,"
    " (SELECT agent FROM trials t WHERE t.run_id = r.id GROUP BY agent ORDER BY COUNT(*) DESC LIMIT 1),"
    " (SELECT model FROM trials t WHERE t.run_id = r.id GROUP BY model ORDER BY COUNT(*) DESC LIMIT 1),"
    " r.imported_at, (SELECT COUNT(*) FROM trials t WHERE t.run_id = r.id), r.provenance FROM runs r"
)


async def runs(db: aiosqlite.Connection) -> list[Run]:
    """Imported runs, oldest first (by the job's start, then import order)."""
    return [_run(r) for r in await rows(db, _RUN_SELECT + " ORDER BY COALESCE(r.started_at, r.imported_at), r.id")]


async def run_by_job(db: aiosqlite.Connection, job_id: str) -> Run | None:
    row = await one(db, _RUN_SELECT + " WHERE r.job_id = ?", (job_id,))
    return _run(row) if row else None


async def label_taken(db: aiosqlite.Connection, label: str) -> bool:
    return await one(db, "SELECT 1 FROM runs WHERE label = ?", (label,)) is not None


async def save_run(
    db: aiosqlite.Connection,
    label: str,
    job_id: str,
    job_dir: str,
    started_at: str | None,
    finished_at: str | None,
    trials: Iterable[Trial],
    provenance: str = "harbor",
) -> tuple[bool, int, int]:
    """Insert the run (unless its job is there) and the trials not imported before, in one transaction.

    Returns (new run?, trials added, trials already present).
    """
    trials = list(trials)
    async with atransaction(db):
        row = await one(db, "SELECT id FROM runs WHERE job_id = ?", (job_id,))
        new = row is None
        if row is None:
            cur2 = await db.execute(
                "INSERT INTO runs(label, job_id, job_dir, started_at, finished_at, provenance, imported_at)"
                f" VALUES (?,?,?,?,?,?,{_NOW})",
                (label, job_id, job_dir, started_at, finished_at, provenance),
            )
            if cur2.lastrowid is None:  # sqlite3 sets it after every successful INSERT
                raise StoreError("the new run was stored without a row id")
            run_id = cur2.lastrowid
        else:
            run_id = row[0]
            await db.execute(
                "UPDATE runs SET finished_at = COALESCE(?, finished_at), job_dir = ?, provenance = ? WHERE id = ?",
                (finished_at, job_dir, provenance, run_id),
            )
        before = await _count(db, run_id)
        await db.executemany(
            f"INSERT OR IGNORE INTO trials(run_id, {', '.join(_TRIAL_COLUMNS)})"
            f" VALUES (?, {', '.join('?' * len(_TRIAL_COLUMNS))})",
            [
                (
                    run_id,
                    t.trial_id,
                    t.trial_name,
                    t.task_name,
                    t.task_path,
                    t.task_checksum,
                    t.reward,
                    orjson.dumps(t.rewards).decode(),
                    t.exception_type,
                    t.exception_message,
                    t.agent,
                    t.agent_version,
                    t.model,
                    t.started_at,
                    t.finished_at,
                    t.cost_usd,
                    t.input_tokens,
                    t.output_tokens,
                    t.issue_id,
                    t.match,
                )
                for t in trials
            ],
        )
        # trials imported before their issue was known (sessions ingested later) are linked now
        await db.executemany(
            "UPDATE trials SET issue_id = ?, match = ? WHERE trial_id = ? AND issue_id IS NULL",
            [(t.issue_id, t.match, t.trial_id) for t in trials if t.issue_id],
        )
        added = await _count(db, run_id) - before
    return new, added, len(trials) - added


async def _count(db: aiosqlite.Connection, run_id: int) -> int:
    return int(await scalar(db, "SELECT COUNT(*) FROM trials WHERE run_id = ?", (run_id,)))


async def delete_run(db: aiosqlite.Connection, label: str) -> bool:
    async with atransaction(db):
        row = await one(db, "SELECT id FROM runs WHERE label = ?", (label,))
        if row is not None:
            await db.execute("DELETE FROM trials WHERE run_id = ?", (row[0],))
            await db.execute("DELETE FROM runs WHERE id = ?", (row[0],))
    return row is not None


async def trials(db: aiosqlite.Connection, issue_ids: Iterable[str] | None = None) -> list[tuple[str, Trial]]:
    """(run label, trial) for the trials of the given issues (all matched trials when None)."""
    sql = f"SELECT r.label, {', '.join('t.' + c for c in _TRIAL_COLUMNS)} FROM trials t JOIN runs r ON r.id = t.run_id"
    args: list[str] = []
    if issue_ids is not None:
        ids = list(issue_ids)
        if not ids:
            return []
        sql += f" WHERE t.issue_id IN ({','.join('?' * len(ids))})"
        args = ids
    else:
        sql += " WHERE t.issue_id IS NOT NULL"
    out = []
    for r in await rows(db, sql + " ORDER BY r.id, t.task_name, t.trial_name", args):
        d = dict(zip(_TRIAL_COLUMNS, r[1:], strict=True))
        d["rewards"] = orjson.loads(d["rewards"] or "{}")
        out.append((r[0], Trial(**d)))
    return out


async def set_fix(db: aiosqlite.Connection, issue_id: str, fixed_on: str, note: str) -> None:
    await db.execute(
        f"INSERT INTO fixes(issue_id, fixed_on, note, marked_at) VALUES (?,?,?,{_NOW})"
        " ON CONFLICT(issue_id) DO UPDATE SET fixed_on = excluded.fixed_on, note = excluded.note,"
        " marked_at = excluded.marked_at",
        (issue_id, fixed_on, note),
    )


async def clear_fix(db: aiosqlite.Connection, issue_id: str) -> bool:
    cur = await db.execute("DELETE FROM fixes WHERE issue_id = ?", (issue_id,))
    return cur.rowcount > 0


async def fixes(db: aiosqlite.Connection) -> dict[str, Fix]:
    return {r[0]: Fix(*r) for r in await rows(db, "SELECT issue_id, fixed_on, note, marked_at FROM fixes")}


async def occurrences(db: aiosqlite.Connection, signatures: Iterable[str]) -> dict[str, dict[str, int]]:
    """signature -> session id -> friction signals with that signature."""
    sigs = list(dict.fromkeys(signatures))
    out: dict[str, dict[str, int]] = {s: {} for s in sigs}
    sql = "SELECT signature, session_id, COUNT(*) FROM signals WHERE polarity = 'friction' AND signature"
    for sig, sid, n in await select_in(db, sql, sigs, suffix=" GROUP BY signature, session_id"):
        out[sig][sid] = n
    return out


async def session_ids_with_prefix(db: aiosqlite.Connection, prefix: str, limit: int = 2) -> list[str]:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    sql = "SELECT id FROM sessions WHERE id LIKE ? ESCAPE '\\' ORDER BY id LIMIT ?"
    return [r[0] for r in await rows(db, sql, (escaped + "%", limit))]
