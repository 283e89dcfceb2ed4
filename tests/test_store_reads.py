"""A read of the store that is cancelled must not leave the connection on an old snapshot.

The TUI cancels screen loads all the time (exclusive workers replace each other on every live refresh). An
aiosqlite query whose caller is cancelled still runs in the connection's thread; if its rows were not read to
the end there, its SQLite statement stays open, and in autocommit mode an open statement keeps the
connection's read transaction: the next query on the connection sees the database as it was before. That is
how CI once saw the issue list of a finished load come back empty (the ranking read after the load saw the
snapshot of a cancelled read taken mid-load, and the hub cached it).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import threading
from pathlib import Path

from ccl_tui.store.db import Store
from tests.tui_support import copy_db

ROOT = Path(__file__).resolve().parent.parent


async def _cancel_a_read_in_flight(store: Store) -> None:
    """Queue ``store.issues()`` behind a blocked query, cancel it, then let the thread run it anyway."""
    gate = threading.Event()
    await store.db.create_function("ccl_test_gate", 0, lambda: gate.wait(10))
    blocker = asyncio.ensure_future(store.db.execute("SELECT ccl_test_gate()"))
    reader = asyncio.ensure_future(store.issues())
    for _ in range(5):  # both have queued their work in the connection's thread
        await asyncio.sleep(0)
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader
    gate.set()
    await blocker


async def test_a_cancelled_read_does_not_pin_the_next_reads_snapshot(tmp_path: Path, demo_db: Path) -> None:
    db = copy_db(demo_db, tmp_path / "demo.sqlite")
    store = await Store.open(db)
    try:
        before = await store.issues()
        assert len(before) > 2
        await _cancel_a_read_in_flight(store)
        # another connection (the detection thread, in the app) writes a new ranking meanwhile
        with contextlib.closing(sqlite3.connect(db)) as con, con:
            con.execute("DELETE FROM issues WHERE rank > 1")
        after = await store.issues()
        assert [i.id for i in after] == [before[0].id]  # the new ranking, not the one of the cancelled read
    finally:
        await store.close()


def test_async_store_code_reads_rows_in_the_connections_thread() -> None:
    """No aiosqlite cursor reaches the event loop: ``cur.fetch*()`` awaited, or ``async for`` over a cursor,
    means its statement was open while the caller could be cancelled. Reads go through
    ``ccl_tui.store.tx.rows``/``one`` (``execute_fetchall``), which finish the statement in the thread."""
    offenders = []
    for path in sorted((ROOT / "ccl_tui").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for n, line in enumerate(text.splitlines(), 1):
            if re.search(r"await \w+\.fetch(one|all|many)\(|async for \w+ in \w*cur|async with \S*\.execute\(", line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []
