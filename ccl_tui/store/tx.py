"""The one way ccl-tui opens a transaction, for both connection kinds it uses.

Connections are opened in autocommit mode (``isolation_level=None``), so nothing is transactional unless a
block says so. ``BEGIN IMMEDIATE`` (the default for writers) takes the write lock up front, waiting up to the
busy timeout, instead of failing later when a read turns into a write. Any exception, including
cancellation and KeyboardInterrupt, rolls back, so a killed run leaves the database as it was before the
block. A block entered while a transaction is already open joins it (the outer block commits).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Literal

import aiosqlite

Mode = Literal["IMMEDIATE", "DEFERRED"]


@contextmanager
def transaction(con: sqlite3.Connection, mode: Mode = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
    """``with transaction(con): ...``: commit when the block ends, roll back when it raises."""
    if con.in_transaction:
        yield con
        return
    con.execute(f"BEGIN {mode}")
    try:
        yield con
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


@asynccontextmanager
async def atransaction(db: aiosqlite.Connection, mode: Mode = "IMMEDIATE") -> AsyncIterator[aiosqlite.Connection]:
    """``async with atransaction(db): ...``: :func:`transaction` for an aiosqlite connection."""
    if db.in_transaction:
        yield db
        return
    await db.execute(f"BEGIN {mode}")
    try:
        yield db
    except BaseException:
        if db.in_transaction:
            await db.execute("ROLLBACK")
        raise
    await db.execute("COMMIT")
