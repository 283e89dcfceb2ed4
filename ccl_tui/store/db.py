"""The aiosqlite event store: one connection, WAL, explicit transactions, migrations on open.

All SQL of the product lives in ``ccl_tui.store``; other layers call these methods and get dataclasses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from ccl_tui.issues.build import SessionInfo
from ccl_tui.issues.model import Issue
from ccl_tui.signals.model import Signal
from ccl_tui.sources.model import EVENT_COLUMNS, Event, row_to_event
from ccl_tui.store import signals as sigsql
from ccl_tui.store.schema import MIGRATIONS, SCHEMA_VERSION


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
    parser: int = 0  # PARSER_VERSION the file was read with


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
        # 16 KiB pages: event rows carry output excerpts of a few KiB; fewer overflow pages per row.
        # Only takes effect on a new database (before the first table and before WAL).
        await db.execute("PRAGMA page_size = 16384")
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
            "pending_bytes, compressed, state, error, parser FROM files"
        ) as cur:
            return {r[0]: FileRecord(*r) for r in await cur.fetchall()}

    async def session_files(self) -> dict[str, str]:
        """session id -> the file its events were read from."""
        async with self.db.execute("SELECT id, file FROM sessions") as cur:
            return {r[0]: r[1] for r in await cur.fetchall()}

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
        sql = f"SELECT {cols} FROM events WHERE sid = (SELECT sid FROM sessions WHERE id = ?)"
        args: list[Any] = [session_id]
        if kinds:
            kinds = list(kinds)
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args.extend(kinds)
        async with self.db.execute(sql + " ORDER BY seq", args) as cur:
            events = [row_to_event(r) for r in await cur.fetchall()]
        await self._restore_shared_text(session_id, events)
        return events

    async def _restore_shared_text(self, session_id: str, events: list[Event]) -> None:
        """Fill in output text the parser stored once for two records of the same call."""
        shared = [e for e in events if "same_text_as" in e.data and not e.text]
        if not shared:
            return
        by_seq = {e.seq: e for e in events}
        missing = sorted({e.data["same_text_as"] for e in shared} - by_seq.keys())
        if missing:
            marks = ",".join("?" * len(missing))
            async with self.db.execute(
                f"SELECT seq, text FROM events WHERE sid = (SELECT sid FROM sessions WHERE id = ?)"
                f" AND seq IN ({marks})",
                [session_id, *missing],
            ) as cur:
                texts = {r[0]: r[1] or "" for r in await cur.fetchall()}
        else:
            texts = {}
        for e in shared:
            ref = e.data["same_text_as"]
            e.text = by_seq[ref].text if ref in by_seq else texts.get(ref, "")

    async def event(self, session_id: str, seq: int) -> Event | None:
        cols = ",".join(EVENT_COLUMNS)
        async with self.db.execute(
            f"SELECT {cols} FROM events WHERE sid = (SELECT sid FROM sessions WHERE id = ?) AND seq = ?",
            (session_id, seq),
        ) as cur:
            row = await cur.fetchone()
        if not row:
            return None
        event = row_to_event(row)
        await self._restore_shared_text(session_id, [event])
        return event

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

    # ------------------------------------------------------------------ signals and issues
    async def signals(
        self, session_id: str | None = None, *, kinds: Iterable[str] | None = None
    ) -> list[Signal]:
        sql = sigsql._SELECT_SIGNALS
        clauses: list[str] = []
        args: list[Any] = []
        if session_id:
            clauses.append("session_id = ?")
            args.append(session_id)
        if kinds:
            kinds = list(kinds)
            clauses.append(f"kind IN ({','.join('?' * len(kinds))})")
            args.extend(kinds)
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        async with self.db.execute(sql + " ORDER BY session_id, seq, kind", args) as cur:
            return [sigsql.row_signal(r) for r in await cur.fetchall()]

    async def session_infos(self) -> dict[str, SessionInfo]:
        async with self.db.execute("SELECT id, repo, origin, started_at FROM sessions") as cur:
            return {r[0]: SessionInfo(r[1] or "(unknown)", r[2] or "other", r[3]) for r in await cur.fetchall()}

    async def issues(self) -> list[Issue]:
        """The stored default-scope ranking (rebuilt by ``pipeline.refresh``)."""
        async with self.db.execute(
            f"SELECT {', '.join(sigsql.ISSUE_COLUMNS)} FROM issues ORDER BY rank"
        ) as cur:
            return [sigsql.row_issue(r) for r in await cur.fetchall()]

    async def signal_stats(self, origins: Sequence[str] | None = None) -> list[tuple[str, str, int, int, int, float, int]]:
        """Per signal kind: (kind, polarity, signals, sessions, turns lost, seconds lost, tokens lost)."""
        sql = (
            "SELECT g.kind, g.polarity, COUNT(*), COUNT(DISTINCT g.session_id), SUM(g.cost_turns),"
            " SUM(g.cost_seconds), SUM(g.cost_tokens) FROM signals g"
        )
        args: list[Any] = []
        if origins is not None:
            sql += f" JOIN sessions s ON s.id = g.session_id WHERE s.origin IN ({','.join('?' * len(origins))})"
            args = list(origins)
        async with self.db.execute(sql + " GROUP BY g.kind, g.polarity ORDER BY g.kind", args) as cur:
            return [tuple(r) for r in await cur.fetchall()]  # type: ignore[misc]

    async def sessions_with(self, polarity: str, origins: Sequence[str] | None = None) -> int:
        sql = "SELECT COUNT(DISTINCT g.session_id) FROM signals g JOIN sessions s ON s.id = g.session_id WHERE g.polarity = ?"
        args: list[Any] = [polarity]
        if origins is not None:
            sql += f" AND s.origin IN ({','.join('?' * len(origins))})"
            args.extend(origins)
        async with self.db.execute(sql, args) as cur:
            return (await cur.fetchone())[0]

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
