"""The aiosqlite event store: one connection, WAL, explicit transactions, migrations on open.

All SQL of the product lives in ``ccl_tui.store``; other layers call these methods and get dataclasses.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import orjson

from ccl_tui.sources.model import Event, Session
from ccl_tui.sources.parse import EVENT_COLUMNS, FileParse
from ccl_tui.store.schema import MIGRATIONS, SCHEMA_VERSION

SESSION_COLUMNS = (
    "id", "file", "era", "started_at", "ended_at", "cwd", "repo", "originator", "source", "origin",
    "cli_version", "model", "model_provider", "git_commit", "git_branch", "git_repo_url", "forked_from",
    "parent_id", "instructions_size",
)  # fmt: skip


class SchemaTooNew(RuntimeError):
    pass


@dataclass(slots=True)
class FileRecord:
    path: str
    session_id: str | None
    status: str
    size: int
    mtime_ns: int
    head_hash: str | None
    offset: int
    lines: int
    malformed: int
    pending_bytes: int
    compressed: str | None
    state: bytes | None
    error: str | None


@dataclass(slots=True)
class SessionSummary:
    """A session row with its aggregates, as listed by ``ccl-tui sessions`` and the TUI."""

    id: str
    file: str
    era: str | None
    started_at: str | None
    ended_at: str | None
    cwd: str | None
    repo: str | None
    originator: str | None
    source: str | None
    origin: str | None
    cli_version: str | None
    model: str | None
    git_commit: str | None
    git_branch: str | None
    git_repo_url: str | None
    forked_from: str | None
    parent_id: str | None
    events: int
    turns: int
    user_messages: int
    tool_calls: int
    tokens_total: int | None
    context_window: int | None
    max_context_input: int | None


@dataclass(slots=True)
class WriteOutcome:
    status: str  # new | updated | duplicate | empty | unrecognized | error | replaced
    session_id: str | None
    events_added: int


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _row_event(r: sqlite3.Row | tuple) -> Event:
    (_, seq, kind, raw_type, line, ts, turn, call_id, tool, command, workdir, exit_code, duration_ms, success,
     status, text, text_size, data) = r  # fmt: skip
    return Event(
        seq=seq, kind=kind, raw_type=raw_type or "", line=line or 0, timestamp=ts, turn=turn, call_id=call_id,
        tool=tool, command=command, workdir=workdir, exit_code=exit_code, duration_ms=duration_ms,
        success=None if success is None else bool(success), status=status, text=text or "",
        text_size=text_size or 0, data=orjson.loads(data) if data else {},
    )  # fmt: skip


class Store:
    """Async access to the SQLite store. Use ``async with await Store.open(path) as store``."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self.db = db
        self.path = path

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    async def open(cls, path: Path | str, *, readonly: bool = False) -> Store:
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        await db.execute("PRAGMA busy_timeout = 10000")
        store = cls(db, path)
        try:
            if str(path) != ":memory:":
                await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA foreign_keys = ON")
            await db.execute("PRAGMA temp_store = MEMORY")
            await db.execute("PRAGMA cache_size = -65536")
            if not readonly:
                await store.migrate()
        except BaseException:
            await db.close()
            raise
        return store

    async def close(self) -> None:
        await self.db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def schema_version(self) -> int:
        async with self.db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self) -> int:
        """Apply pending migrations, each in its own transaction. Returns the resulting version."""
        version = await self.schema_version()
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"{self.path} has schema v{version}; this ccl-tui understands up to v{SCHEMA_VERSION}. "
                "Upgrade ccl-tui or use another --db."
            )
        for i in range(version, SCHEMA_VERSION):
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                await self._exec_script(MIGRATIONS[i])
                await self.db.execute(f"PRAGMA user_version = {i + 1}")
                await self.db.execute("COMMIT")
            except BaseException:
                await self.db.execute("ROLLBACK")
                raise
        return SCHEMA_VERSION

    async def _exec_script(self, script: str) -> None:
        # executescript() would COMMIT the open transaction; run statements one by one instead.
        for stmt in _split_sql(script):
            await self.db.execute(stmt)

    # ------------------------------------------------------------------ files
    async def file_records(self) -> dict[str, FileRecord]:
        async with self.db.execute(
            "SELECT path, session_id, status, size, mtime_ns, head_hash, offset, lines, malformed, "
            "pending_bytes, compressed, state, error FROM files"
        ) as cur:
            return {r[0]: FileRecord(*r) for r in await cur.fetchall()}

    async def session_files(self) -> dict[str, str]:
        """session id -> the file its events were read from."""
        async with self.db.execute("SELECT id, file FROM sessions") as cur:
            return {r[0]: r[1] for r in await cur.fetchall()}

    async def session_owner(self, session_id: str) -> str | None:
        async with self.db.execute("SELECT file FROM sessions WHERE id = ?", (session_id,)) as cur:
            row = await cur.fetchone()
        return row[0] if row else None

    async def write_file(self, parse: FileParse, *, owner_exists: bool) -> WriteOutcome:
        """Store one file's parse result in a single transaction (all or nothing).

        ``owner_exists`` tells whether the file currently owning the parsed session (if another one)
        still exists on disk; a copy only takes a session over from a larger-or-missing owner.
        """
        db = self.db
        s = parse.session
        await db.execute("BEGIN IMMEDIATE")
        try:
            if parse.error and s is None:
                status = "error"
                outcome = WriteOutcome("error", None, 0)
            elif s is None:
                status = "empty" if parse.lines == 0 else "unrecognized"
                outcome = WriteOutcome(status, None, 0)
            else:
                outcome = await self._write_session(parse, s, owner_exists)
                status = "duplicate" if outcome.status == "duplicate" else "ok"
            if parse.full:
                await db.execute("DELETE FROM malformed WHERE path = ?", (parse.path,))
            if parse.bad:
                await db.executemany(
                    "INSERT OR REPLACE INTO malformed(path, line, reason, excerpt) VALUES (?,?,?,?)",
                    [(parse.path, b.line, b.reason, b.excerpt) for b in parse.bad],
                )
            async with db.execute("SELECT COUNT(*) FROM malformed WHERE path = ?", (parse.path,)) as cur:
                malformed = (await cur.fetchone())[0]
            await db.execute(
                "INSERT INTO files(path, session_id, status, size, mtime_ns, head_hash, offset, lines, malformed,"
                " pending_bytes, compressed, state, error, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(path) DO UPDATE SET session_id=excluded.session_id, status=excluded.status,"
                " size=excluded.size, mtime_ns=excluded.mtime_ns, head_hash=excluded.head_hash,"
                " offset=excluded.offset, lines=excluded.lines, malformed=excluded.malformed,"
                " pending_bytes=excluded.pending_bytes, compressed=excluded.compressed, state=excluded.state,"
                " error=excluded.error, ingested_at=excluded.ingested_at",
                (
                    parse.path, s.id if s else None, status, parse.size, parse.mtime_ns, parse.head_hash,
                    parse.end_offset, parse.lines, malformed, parse.pending_bytes, parse.compressed,
                    parse.state, parse.error, now_iso(),
                ),
            )  # fmt: skip
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        return outcome

    async def record_file_error(self, path: str, error: str) -> None:
        await self.db.execute(
            "INSERT INTO files(path, status, error, ingested_at) VALUES (?, 'error', ?, ?) "
            "ON CONFLICT(path) DO UPDATE SET error=excluded.error, ingested_at=excluded.ingested_at",
            (path, error, now_iso()),
        )

    async def _write_session(self, parse: FileParse, s: Session, owner_exists: bool) -> WriteOutcome:
        db = self.db
        async with db.execute("SELECT file FROM sessions WHERE id = ?", (s.id,)) as cur:
            row = await cur.fetchone()
        owner = row[0] if row else None
        replaced = False
        if owner is not None and owner != parse.path:
            async with db.execute("SELECT size FROM files WHERE path = ?", (owner,)) as cur:
                orow = await cur.fetchone()
            owner_size = orow[0] if orow else 0
            takes_over = not owner_exists or parse.size > owner_size
            if not takes_over or not parse.full:
                return WriteOutcome("duplicate", s.id, 0)
            await db.execute("UPDATE files SET status = 'duplicate' WHERE path = ?", (owner,))
            replaced = True
        if parse.full and owner is not None:
            await db.execute("DELETE FROM events WHERE session_id = ?", (s.id,))
        if parse.rows:
            cols = ",".join(EVENT_COLUMNS)
            marks = ",".join("?" * len(EVENT_COLUMNS))
            await db.executemany(f"INSERT INTO events({cols}) VALUES ({marks})", parse.rows)
        values = [
            s.id, parse.path, s.era, s.started_at, s.ended_at or s.started_at, s.cwd, s.repo, s.originator,
            s.source, s.origin, s.cli_version, s.model, s.model_provider, s.git_commit, s.git_branch,
            s.git_repo_url, s.forked_from, s.parent_id, s.instructions_size,
        ]  # fmt: skip
        cols = ",".join(SESSION_COLUMNS)
        updates = ",".join(f"{c}=excluded.{c}" for c in SESSION_COLUMNS[1:])
        await db.execute(
            f"INSERT INTO sessions({cols}, updated_at) VALUES ({','.join('?' * len(values))}, ?) "
            f"ON CONFLICT(id) DO UPDATE SET {updates}, updated_at=excluded.updated_at",
            [*values, now_iso()],
        )
        await self._refresh_aggregates(s.id)
        status = "replaced" if replaced else ("new" if owner is None else "updated")
        return WriteOutcome(status, s.id, len(parse.rows))

    async def _refresh_aggregates(self, session_id: str) -> None:
        await self.db.execute(
            """
            UPDATE sessions SET
              events = (SELECT COUNT(*) FROM events WHERE session_id = :id),
              turns = (SELECT COALESCE(MAX(turn), 0) FROM events WHERE session_id = :id),
              user_messages = (SELECT COUNT(*) FROM events WHERE session_id = :id AND kind = 'user_message'),
              tool_calls = (SELECT COUNT(*) FROM events WHERE session_id = :id AND kind = 'tool_call'),
              tokens_total = (SELECT MAX(json_extract(data, '$.total')) FROM events
                              WHERE session_id = :id AND kind = 'token_count'),
              context_window = (SELECT MAX(json_extract(data, '$.window')) FROM events
                              WHERE session_id = :id AND kind IN ('token_count', 'turn_started')),
              max_context_input = (SELECT MAX(json_extract(data, '$.input')) FROM events
                              WHERE session_id = :id AND kind = 'token_count')
            WHERE id = :id
            """,
            {"id": session_id},
        )
        await self.db.execute(
            "UPDATE sessions SET context_window = COALESCE(context_window, (SELECT MAX(json_extract(data,"
            " '$.model_context_window')) FROM events WHERE session_id = :id AND kind = 'turn_started'))"
            " WHERE id = :id",
            {"id": session_id},
        )

    # ------------------------------------------------------------------ reads
    async def sessions(
        self,
        *,
        origin: str | None = None,
        repo: str | None = None,
        since: str | None = None,
        limit: int | None = None,
    ) -> list[SessionSummary]:
        where, args = _filters(origin=origin, repo=repo, since=since)
        sql = (
            "SELECT id, file, era, started_at, ended_at, cwd, repo, originator, source, origin, cli_version, model,"
            " git_commit, git_branch, git_repo_url, forked_from, parent_id, events, turns, user_messages,"
            f" tool_calls, tokens_total, context_window, max_context_input FROM sessions {where}"
            " ORDER BY started_at DESC, id"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        async with self.db.execute(sql, args) as cur:
            return [SessionSummary(*r) for r in await cur.fetchall()]

    async def session(self, session_id: str) -> SessionSummary | None:
        """A session by id or unique id prefix."""
        async with self.db.execute(
            "SELECT id FROM sessions WHERE id = ? OR id LIKE ? ORDER BY id LIMIT 2",
            (session_id, session_id.replace("%", "").replace("_", "\\_") + "%"),
        ) as cur:
            rows = await cur.fetchall()
        exact = [r for r in rows if r[0] == session_id]
        if exact:
            rows = exact
        if len(rows) != 1:
            return None
        found = await self.sessions_by_ids([rows[0][0]])
        return found[0] if found else None

    async def sessions_by_ids(self, ids: Sequence[str]) -> list[SessionSummary]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        async with self.db.execute(
            "SELECT id, file, era, started_at, ended_at, cwd, repo, originator, source, origin, cli_version, model,"
            " git_commit, git_branch, git_repo_url, forked_from, parent_id, events, turns, user_messages,"
            f" tool_calls, tokens_total, context_window, max_context_input FROM sessions WHERE id IN ({marks})",
            list(ids),
        ) as cur:
            return [SessionSummary(*r) for r in await cur.fetchall()]

    async def events(self, session_id: str, *, kinds: Iterable[str] | None = None) -> list[Event]:
        cols = ",".join(EVENT_COLUMNS)
        sql = f"SELECT {cols} FROM events WHERE session_id = ?"
        args: list[Any] = [session_id]
        if kinds:
            kinds = list(kinds)
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args.extend(kinds)
        async with self.db.execute(sql + " ORDER BY seq", args) as cur:
            return [_row_event(r) for r in await cur.fetchall()]

    async def event(self, session_id: str, seq: int) -> Event | None:
        cols = ",".join(EVENT_COLUMNS)
        async with self.db.execute(
            f"SELECT {cols} FROM events WHERE session_id = ? AND seq = ?", (session_id, seq)
        ) as cur:
            row = await cur.fetchone()
        return _row_event(row) if row else None

    async def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for name, sql in (
            ("sessions", "SELECT COUNT(*) FROM sessions"),
            ("events", "SELECT COUNT(*) FROM events"),
            ("files", "SELECT COUNT(*) FROM files"),
            ("malformed", "SELECT COUNT(*) FROM malformed"),
        ):
            async with self.db.execute(sql) as cur:
                out[name] = (await cur.fetchone())[0]
        return out

    async def malformed_lines(self, limit: int = 50) -> list[tuple[str, int, str, str]]:
        async with self.db.execute(
            "SELECT path, line, reason, excerpt FROM malformed ORDER BY path, line LIMIT ?", (limit,)
        ) as cur:
            return [tuple(r) for r in await cur.fetchall()]  # type: ignore[misc]


def _filters(*, origin: str | None, repo: str | None, since: str | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if origin:
        clauses.append("origin = ?")
        args.append(origin)
    if repo:
        clauses.append("repo = ?")
        args.append(repo)
    if since:
        clauses.append("started_at >= ?")
        args.append(since)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", args


def _split_sql(script: str) -> list[str]:
    """Split a migration script into statements (no semicolons inside our string literals)."""
    out, buf = [], []
    for line in script.splitlines():
        code = line.split("--", 1)[0]
        buf.append(code)
        if code.rstrip().endswith(";"):
            stmt = "\n".join(buf).strip()
            if stmt.strip(";").strip():
                out.append(stmt)
            buf = []
    tail = "\n".join(buf).strip()
    if tail:
        out.append(tail)
    return out
