"""SQL of ``tasks check --execute`` outcomes (table ``task_checks``, migration v8). Async on ``store.db``.

Rows are plain dicts with the keys of :data:`COLUMNS` (the store does not import the tasks layer).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import aiosqlite
import orjson

from ccl_tui.store.tx import atransaction, rows

COLUMNS = (
    "checked_at",
    "task_name",
    "task_path",
    "issue_id",
    "session_id",
    "signal_seq",
    "class",
    "evidence",
    "planned_class",
    "reason",
    "reward_before",
    "reward_after",
    "reproducible",
    "detail",
)


def _value(row: dict[str, Any], key: str) -> Any:
    value = row.get(key)
    if key == "detail":
        return orjson.dumps(value if isinstance(value, dict) else {}).decode()
    if key == "reproducible":
        return None if value is None else int(bool(value))
    if key in ("reward_before", "reward_after"):
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if key == "signal_seq":
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if key in ("issue_id", "session_id"):
        return str(value) if value is not None else None
    return str(value or "")


async def save_task_checks(db: aiosqlite.Connection, rows: Iterable[dict[str, Any]]) -> int:
    """Insert one row per checked task, in one transaction. Returns how many were saved."""
    values = [tuple(_value(r, k) for k in COLUMNS) for r in rows]
    if not values:
        return 0
    async with atransaction(db):
        await db.executemany(
            f"INSERT INTO task_checks({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})", values
        )
    return len(values)


async def task_checks(
    db: aiosqlite.Connection, *, issue_id: str | None = None, latest: bool = True, limit: int = 1000
) -> list[dict[str, Any]]:
    """Recorded checks, newest first; with ``latest`` only the newest per task path."""
    where = "WHERE issue_id = ?" if issue_id else ""
    args: list[Any] = [issue_id] if issue_id else []
    sql = f"SELECT {', '.join(COLUMNS)} FROM task_checks {where} ORDER BY checked_at DESC, id DESC"
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in await rows(db, sql, args):  # one row per check run: few
        doc = dict(zip(COLUMNS, row, strict=True))
        if latest and doc["task_path"] in seen:
            continue
        seen.add(doc["task_path"])
        doc["detail"] = orjson.loads(doc["detail"] or "{}")
        doc["reproducible"] = None if doc["reproducible"] is None else bool(doc["reproducible"])
        out.append(doc)
        if len(out) >= limit:
            break
    return out
