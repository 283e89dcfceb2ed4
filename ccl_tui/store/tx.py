"""The one way ccl-tui opens a transaction, for both connection kinds it uses.

Connections are opened in autocommit mode (``isolation_level=None``), so nothing is transactional unless a
block says so. ``BEGIN IMMEDIATE`` (the default for writers) takes the write lock up front, waiting up to the
busy timeout, instead of failing later when a read turns into a write. Any exception, including
cancellation and KeyboardInterrupt, rolls back, so a killed run leaves the database as it was before the
block. A block entered while a transaction is already open is a savepoint inside it: its own failure undoes
only its own writes, and the outer transaction decides whether everything commits.

:class:`Batch` keeps one transaction open across many such blocks and commits it every so often: the ingest
writer stores each file in its own block (all or nothing per file, as before) and pays for a commit once per
batch instead of once per file.

Async reads go through :func:`rows` and :func:`one`: the query runs and its rows are read to the end in the
aiosqlite thread, so no open statement outlives the call. A statement left open (a cursor handed to the event
loop whose caller is cancelled before it reads every row) keeps the connection's read transaction in autocommit
mode, and the next query on the connection would see the database as it was before.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Literal

import aiosqlite

Mode = Literal["IMMEDIATE", "DEFERRED"]


@contextmanager
def transaction(con: sqlite3.Connection, mode: Mode = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
    """``with transaction(con): ...``: commit when the block ends, roll back when it raises."""
    if con.in_transaction:
        con.execute("SAVEPOINT ccl_block")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK TO ccl_block")
            con.execute("RELEASE ccl_block")
            raise
        con.execute("RELEASE ccl_block")
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


class Batch:
    """One write transaction held open across many :func:`transaction` blocks on ``con``, committed when it is
    ``seconds`` old or holds ``blocks`` blocks (and by :meth:`commit`). Readers on other connections see a
    batch when it commits; a process killed mid-batch loses only the uncommitted blocks, whole."""

    def __init__(self, con: sqlite3.Connection, *, seconds: float = 0.25, blocks: int = 256) -> None:
        self.con, self.seconds, self.blocks = con, seconds, blocks
        self._started = 0.0
        self._count = 0

    def begin(self) -> None:
        """Open the batch's transaction unless one is open."""
        if not self.con.in_transaction:
            self.con.execute("BEGIN IMMEDIATE")
            self._started, self._count = time.monotonic(), 0

    def done_one(self) -> None:
        """A block finished: commit when the batch is old or full enough."""
        self._count += 1
        if self._count >= self.blocks or time.monotonic() - self._started >= self.seconds:
            self.commit()

    def commit(self) -> None:
        if self.con.in_transaction:
            self.con.execute("COMMIT")
        self._count = 0

    def rollback(self) -> None:
        if self.con.in_transaction:
            self.con.execute("ROLLBACK")
        self._count = 0


async def select_in(
    db: aiosqlite.Connection, sql: str, values: Sequence[Any], *, suffix: str = "", chunk: int = 500
) -> list[Any]:
    """Rows of ``sql`` + `` IN (?, …)`` + ``suffix`` for every value of ``values``, queried in chunks that stay
    below SQLite's limit on bound parameters. ``sql`` ends with the column the values are matched against."""
    found: list[Any] = []
    for i in range(0, len(values), chunk):
        part = list(values[i : i + chunk])
        found.extend(await rows(db, f"{sql} IN ({','.join('?' * len(part))}){suffix}", part))
    return found


async def rows(db: aiosqlite.Connection, sql: str, args: Sequence[Any] = ()) -> list[Any]:
    """Every row of ``sql``, read to the end in the connection's thread (see the module's docstring)."""
    return list(await db.execute_fetchall(sql, args))


async def one(db: aiosqlite.Connection, sql: str, args: Sequence[Any] = ()) -> Any | None:
    """The first row of ``sql`` (ask for one row: every row is read), or None."""
    found = await rows(db, sql, args)
    return found[0] if found else None
