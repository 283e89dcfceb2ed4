"""The aiosqlite event store: one connection, WAL, explicit transactions, migrations on open (under one lock).

All SQL of the product lives in ``ccl_tui.store``; other layers call these methods and get dataclasses.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiosqlite

from ccl_tui.model.events import EVENT_COLUMNS, Event, row_to_event
from ccl_tui.model.issues import Issue, SessionInfo
from ccl_tui.model.signals import Signal
from ccl_tui.store import signals as sigsql
from ccl_tui.store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from ccl_tui.store.tx import atransaction, one, rows, select_in


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


#: (size, mtime_ns, status, parser version, session id) of a file as last read: :meth:`Store.file_marks`.
FileMark = tuple[int, int, str, int, str | None]


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


class StoreError(RuntimeError):
    """The database cannot be used as asked. ``str()`` is one line for the user, naming the file and what to do."""


class SchemaTooNew(StoreError):
    pass


class NotADatabase(StoreError):
    """Not a SQLite file, damaged, or not a file at all (a folder, a device, a path through a file)."""


class ForeignDatabase(StoreError):
    """A SQLite database of another application: ccl-tui never writes to it."""


class StoreReadOnly(StoreError):
    """The database (or its folder, or the file system) cannot be written, and writing was needed."""


#: Tables every ccl-tui database has from schema v1 on: how databases from before the application id are recognized.
CORE_TABLES = frozenset({"files", "sessions", "events", "malformed"})


@dataclass(frozen=True, slots=True)
class _Found:
    """What a database file holds, read before anything is written to it."""

    version: int
    application_id: int
    tables: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.tables and self.version == 0 and self.application_id in (0, APPLICATION_ID)


def _verdict(path: Path, found: _Found) -> None:
    """Refuse a database that is not ccl-tui's (left untouched) or is from a newer ccl-tui."""
    if found.empty:
        return
    ours = found.application_id == APPLICATION_ID or (
        found.application_id == 0 and found.version > 0 and set(found.tables) >= CORE_TABLES
    )
    if not ours:
        if found.application_id not in (0, APPLICATION_ID):
            what = f"application id {found.application_id:#x}"
        else:
            shown = ", ".join(found.tables[:5]) + (", ..." if len(found.tables) > 5 else "")
            what = f"its tables: {shown}" if found.tables else f"user_version {found.version}"
        raise ForeignDatabase(
            f"{path} is a SQLite database of another application ({what}; no ccl-tui marker): "
            "ccl-tui leaves it untouched. Use another --db."
        )
    if found.version > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"{path} has schema v{found.version}; this ccl-tui understands up to v{SCHEMA_VERSION}. "
            "Upgrade ccl-tui or use another --db."
        )


def database_error(path: Path | str, exc: BaseException) -> StoreError:
    """A SQLite error as one line that names the database and what to do about it."""
    if isinstance(exc, StoreError):
        return exc
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = " ".join(str(exc).split())
    low = text.lower()
    if name == "SQLITE_NOTADB" or "not a database" in low:
        return NotADatabase(
            f"{path} is not a SQLite database, or its header is damaged: ccl-tui leaves it as it is."
            " Move it away or use another --db."
        )
    if name.startswith("SQLITE_CORRUPT") or "malformed" in low:
        return NotADatabase(
            f"{path} is damaged ({text}: truncated or overwritten?). Restore it from a backup,"
            " or move it away and run `ccl-tui ingest` to build a new one."
        )
    if name.startswith("SQLITE_READONLY") or "readonly database" in low or "read-only" in low:
        return StoreReadOnly(f"{path} is read-only ({text}): make it writable or use another --db.")
    if name.startswith("SQLITE_BUSY") or "locked" in low:
        return StoreError(f"{path} is busy ({text}): another program holds it; try again.")
    if name.startswith("SQLITE_FULL") or "disk is full" in low:
        return StoreError(f"cannot write {path}: the disk is full.")
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in low:
        return StoreError(f"cannot open {path} ({text}).")
    if "no such table" in low or "no such column" in low:
        return StoreError(
            f"{path} lacks what this ccl-tui expects ({text}): it was written by another version"
            " and could not be upgraded (read-only?)."
        )
    if isinstance(exc, OSError):
        return StoreError(f"cannot use {path}: {exc.strerror or text}.")
    return StoreError(f"database error in {path}: {text}")


def check_path(path: Path, *, header: bool = True) -> None:
    """Refuse a path that cannot hold a database file: a folder, a device or pipe, a path through a file; and
    (``header``) a file that is not SQLite's or was cut short."""
    try:
        if path.is_dir():
            raise NotADatabase(
                f"{path} is a folder, not a database file. Give --db a file path, e.g. {path / 'ccl.sqlite'}."
            )
        if path.exists() and not path.is_file():
            raise NotADatabase(f"{path} is not a regular file: ccl-tui keeps its database in a file.")
        if header and path.is_file():
            _check_header(path)
        for folder in (path.parent, *path.parent.parents):
            if folder.exists():
                if not folder.is_dir():
                    raise NotADatabase(f"cannot use {path}: {folder} is a file, not a folder.")
                break
    except OSError as exc:
        raise database_error(path, exc) from None


_MAGIC = b"SQLite format 3\x00"
_HEADER_SIZE = 100


def _check_header(path: Path) -> None:
    """An empty file is a new database (as SQLite sees it); anything else must start with a whole SQLite header.
    SQLite itself takes a file cut inside its first 100 bytes for an empty database and would write over it."""
    with path.open("rb") as f:
        head = f.read(_HEADER_SIZE)
    if not head:
        return
    if len(head) < _HEADER_SIZE and _MAGIC.startswith(head[: len(_MAGIC)]):
        raise NotADatabase(
            f"{path} is damaged (truncated to {len(head)} bytes). Restore it from a backup,"
            " or move it away and run `ccl-tui ingest` to build a new one."
        )
    if not head.startswith(_MAGIC) or len(head) < _HEADER_SIZE:
        raise NotADatabase(
            f"{path} is not a SQLite database, or its header is damaged: ccl-tui leaves it as it is."
            " Move it away or use another --db."
        )
    # SQLite writes whole pages: a file that ends inside one was cut (SQLite would read the missing part as
    # zeros). Checked twice, a moment apart: a page being appended by another process is not a cut.
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    for attempt in range(2):
        size = path.stat().st_size
        if page < 512 or size % page == 0:
            return
        if attempt == 0:
            time.sleep(0.05)
    raise NotADatabase(
        f"{path} is damaged (truncated: {size} bytes is not a whole number of {page}-byte pages)."
        " Restore it from a backup, or move it away and run `ccl-tui ingest` to build a new one."
    )


def read_only_reason(path: Path) -> str | None:
    """Why the database at ``path`` cannot be written (None: it can). SQLite also needs its folder, for the
    ``-wal``/``-shm`` (or journal) files next to it."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return "on a read-only file system"
    except (AttributeError, OSError):  # no statvfs (Windows): the access checks below still apply
        pass
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is not writable"
    if not os.access(folder, os.W_OK | os.X_OK):
        return "its folder is not writable"
    for suffix in ("-wal", "-shm"):
        side = _side(path, suffix)
        if side.exists() and not os.access(side, os.W_OK):
            return f"{side.name} is not writable"
    return None


def require_writable(path: Path, command: str) -> None:
    """For a command that writes: refuse a database that cannot be written, before any work is done."""
    check_path(path)
    reason = read_only_reason(path)
    if reason is not None:
        what = "the database" if path.exists() else "a new database"
        raise StoreReadOnly(
            f"`{command}` writes to {what}, and {path} is read-only ({reason}). Make it writable or use another --db."
        )


def _uri(path: Path, mode: str) -> str:
    return f"file:{quote(str(path.absolute()), safe='/')}?{mode}"


def _frozen(path: Path, reason: str) -> bool:
    """Whether nothing can change the file while it is read, so SQLite may read it as ``immutable`` (needing no
    ``-shm`` file, which a read-only folder cannot get): its folder or file system is read-only, and it is a WAL
    database with no ``-wal``/``-shm`` next to it (no connection has it open). A rollback-journal database is
    read with ``mode=ro``, which keeps SQLite's locking against a writer that may still have access."""
    if reason not in ("on a read-only file system", "its folder is not writable"):
        return False
    try:
        with path.open("rb") as f:
            wal = f.read(20)[18:19] == b"\x02"  # header byte 18: file format write version, 2 = WAL
    except OSError:
        return False
    return wal and not any(_side(path, s).exists() for s in ("-wal", "-shm"))


def _side(path: Path, suffix: str) -> Path:
    """A file SQLite keeps next to the database (``-wal``, ``-shm``, ``-journal``)."""
    return path.with_name(path.name + suffix)


class Store:
    """Async access to the SQLite store. Use ``async with await Store.open(path) as store``.

    ``readonly`` stores (``store.readonly``) never write; ``store.readonly_note`` says why and what is skipped.
    """

    def __init__(
        self, db: aiosqlite.Connection, path: Path, *, readonly: bool = False, readonly_note: str | None = None
    ) -> None:
        self.db = db
        self.path = path
        self.readonly = readonly
        self.readonly_note = readonly_note

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    async def open(cls, path: Path | str, *, readonly: bool | None = None) -> Store:
        """Open (and create or upgrade) the database.

        ``readonly=None`` (the default) writes when the file, its folder and the file system allow it and
        otherwise opens it read-only (``store.readonly``); ``True`` opens read-only (SQLite ``mode=ro``, or
        ``immutable`` when nothing can change it); ``False`` requires write access. A damaged file, another
        application's database or a newer schema raise a :class:`StoreError` and are left untouched.
        """
        path = Path(path)
        if str(path) == ":memory:":
            db = await aiosqlite.connect(":memory:", isolation_level=None)
            store = cls(db, path)
            try:
                await store._configure()
                await store.migrate()
            except BaseException:
                await db.close()
                raise
            return store
        check_path(path)
        reason = "opened read-only" if readonly else None
        if not reason and not path.parent.exists():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder {path.parent} for {path}: {exc.strerror}.") from None
        if not reason:
            reason = read_only_reason(path)
            if reason and readonly is False:
                raise StoreReadOnly(f"{path} is read-only ({reason}): make it writable or use another --db.")
        if reason and not path.exists():
            raise StoreReadOnly(
                f"no database at {path}"
                + (f" ({reason})." if readonly else f", and none can be created there ({reason}).")
            )
        try:
            if reason:
                return await cls._open_read_only(path, reason)
            return await cls._open_read_write(path)
        except sqlite3.Error as exc:
            raise database_error(path, exc) from None

    @classmethod
    async def _open_read_write(cls, path: Path) -> Store:
        db = await aiosqlite.connect(path, isolation_level=None)
        store = cls(db, path)
        try:
            await rows(db, f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            # Read what the file holds before anything is written: another application's database, a damaged
            # file or a newer schema are refused untouched (no WAL switch, no tables, no user_version).
            found = await store._found()
            _verdict(path, found)
            # 16 KiB pages: event rows carry output excerpts of a few KiB; fewer overflow pages per row.
            # Only takes effect on a new database (before the first table and before WAL).
            await rows(db, "PRAGMA page_size = 16384")
            await _switch_to_wal(db)
            await store._configure()
            if found.version != SCHEMA_VERSION:
                await store.migrate()
        except BaseException:
            await db.close()
            raise
        return store

    @classmethod
    async def _open_read_only(cls, path: Path, reason: str) -> Store:
        """``mode=ro``: SQLite refuses every write. ``immutable=1`` when nothing can change the file (``_frozen``),
        or when ``mode=ro`` cannot open a WAL database in a read-only folder."""
        frozen = _frozen(path, reason)
        notes = [
            f"{path} is read-only ({reason}): showing what it holds, writing nothing"
            " (signals and the ranking are not brought up to date)"
        ]
        db = await aiosqlite.connect(_uri(path, "immutable=1" if frozen else "mode=ro"), isolation_level=None, uri=True)
        store = cls(db, path, readonly=True)
        try:
            await rows(db, f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            try:
                found = await store._found()
            except sqlite3.OperationalError as exc:
                if frozen or "unable to open" not in str(exc):
                    raise
                # A WAL database whose -shm cannot be created: read the main file as it is.
                await db.close()
                db = store.db = await aiosqlite.connect(_uri(path, "immutable=1"), isolation_level=None, uri=True)
                await rows(db, f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
                found = await store._found()
                if _side(path, "-wal").exists():
                    notes.append(f"changes still in {path.name}-wal are not shown")
            _verdict(path, found)
            if found.empty:
                raise StoreReadOnly(f"{path} holds no ccl-tui data yet and is read-only ({reason}): nothing to show.")
            if found.version < SCHEMA_VERSION:
                notes.append(f"written by an older ccl-tui (schema v{found.version}; not upgraded)")
            await store._configure()
        except BaseException:
            await store.db.close()
            raise
        store.readonly_note = "; ".join(notes) + "."
        return store

    async def _configure(self) -> None:
        if not self.readonly:
            await rows(self.db, "PRAGMA synchronous = NORMAL")
        await rows(self.db, "PRAGMA foreign_keys = ON")
        await rows(self.db, "PRAGMA temp_store = MEMORY")
        await rows(self.db, "PRAGMA cache_size = -65536")

    async def _found(self) -> _Found:
        """Read in one transaction: one snapshot, not a version from before another process's migration and
        tables from after it."""
        async with atransaction(self.db, "DEFERRED"):  # joins the migration's transaction when inside one
            return await self._read_found()

    async def _read_found(self) -> _Found:
        version = int(await scalar(self.db, "PRAGMA user_version"))
        app = int(await scalar(self.db, "PRAGMA application_id"))
        found = await rows(
            self.db,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
            " ORDER BY name",
        )
        tables = tuple(r[0] for r in found)
        return _Found(version, app & 0xFFFFFFFF, tables)

    async def close(self) -> None:
        await self.db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def schema_version(self) -> int:
        row = await one(self.db, "PRAGMA user_version")
        return int(row[0]) if row else 0

    async def migrate(self) -> int:
        """Apply pending migrations under one lock. Returns the resulting version.

        ``BEGIN IMMEDIATE`` takes the database's write lock first (waiting up to the busy timeout for another
        process that holds it), then the version is read again inside: of processes opening a new database at
        once, one migrates and the others find it done. All pending steps commit together or not at all.
        """
        if self.readonly:
            raise StoreReadOnly(f"{self.path} is read-only: its schema cannot be upgraded.")
        async with atransaction(self.db):
            found = await self._found()
            _verdict(self.path, found)
            for i in range(found.version, SCHEMA_VERSION):
                await self._exec_script(MIGRATIONS[i])
                await self.db.execute(f"PRAGMA user_version = {i + 1}")
        return SCHEMA_VERSION

    async def _exec_script(self, script: str) -> None:
        # executescript() would COMMIT the open transaction; run statements one by one instead.
        for stmt in _split_sql(script):
            await self.db.execute(stmt)

    # ------------------------------------------------------------------ files
    async def file_records(
        self, paths: Sequence[str] | None = None, *, with_state: bool = True
    ) -> dict[str, FileRecord]:
        """Every file read so far, or those of ``paths``. ``with_state=False`` leaves out the saved parser
        states (kilobytes a file; :meth:`file_states` reads the few a continued ingest needs)."""
        state = "state" if with_state else "NULL"
        sql = (
            "SELECT path, session_id, status, size, mtime_ns, head_hash, offset, lines, malformed, "
            f"pending_bytes, compressed, {state}, error, parser FROM files"
        )
        found = await rows(self.db, sql) if paths is None else await select_in(self.db, sql + " WHERE path", paths)
        return {r[0]: FileRecord(*r) for r in found}

    async def file_marks(self) -> dict[str, FileMark]:
        """path -> what tells whether a file changed since it was read (an unchanged re-run reads only this)."""
        return {
            r[0]: r[1:]
            for r in await rows(self.db, "SELECT path, size, mtime_ns, status, parser, session_id FROM files")
        }

    async def file_states(self, paths: Sequence[str]) -> dict[str, bytes | None]:
        """The saved parser state of each of ``paths`` (to continue reading them from their offsets)."""
        return {r[0]: r[1] for r in await select_in(self.db, "SELECT path, state FROM files WHERE path", paths)}

    async def session_files(self, ids: Sequence[str]) -> dict[str, str]:
        """session id -> the file its events were read from, for ``ids``."""
        return {r[0]: r[1] for r in await select_in(self.db, "SELECT id, file FROM sessions WHERE id", ids)}

    async def sessions(
        self,
        *,
        origin: str | None = None,
        repo: str | None = None,
        since: str | None = None,
        limit: int | None = None,
        agent: str | None = None,
    ) -> list[SessionSummary]:
        where, args = _filters(origin=origin, repo=repo, since=since, agent=agent)
        sql = (
            "SELECT id, file, era, started_at, ended_at, cwd, repo, originator, source, origin, cli_version, model,"
            " git_commit, git_branch, git_repo_url, forked_from, parent_id, events, turns, user_messages,"
            f" tool_calls, tokens_total, context_window, max_context_input FROM sessions {where}"
            " ORDER BY started_at DESC, id"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [SessionSummary(*r) for r in await rows(self.db, sql, args)]

    async def session(self, session_id: str) -> SessionSummary | None:
        """A session by id or unique id prefix."""
        matches = await rows(
            self.db,
            "SELECT id FROM sessions WHERE id = ? OR id LIKE ? ORDER BY id LIMIT 2",
            (session_id, session_id.replace("%", "").replace("_", "\\_") + "%"),
        )
        exact = [r for r in matches if r[0] == session_id]
        if exact:
            matches = exact
        if len(matches) != 1:
            return None
        found = await self.sessions_by_ids([matches[0][0]])
        return found[0] if found else None

    async def sessions_by_ids(self, ids: Sequence[str]) -> list[SessionSummary]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        found = await rows(
            self.db,
            "SELECT id, file, era, started_at, ended_at, cwd, repo, originator, source, origin, cli_version, model,"
            " git_commit, git_branch, git_repo_url, forked_from, parent_id, events, turns, user_messages,"
            f" tool_calls, tokens_total, context_window, max_context_input FROM sessions WHERE id IN ({marks})",
            list(ids),
        )
        return [SessionSummary(*r) for r in found]

    async def events(self, session_id: str, *, kinds: Iterable[str] | None = None) -> list[Event]:
        cols = ",".join(EVENT_COLUMNS)
        sql = f"SELECT {cols} FROM events WHERE sid = (SELECT sid FROM sessions WHERE id = ?)"
        args: list[Any] = [session_id]
        if kinds:
            kinds = list(kinds)
            sql += f" AND kind IN ({','.join('?' * len(kinds))})"
            args.extend(kinds)
        events = [row_to_event(r) for r in await rows(self.db, sql + " ORDER BY seq", args)]
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
            found = await rows(
                self.db,
                f"SELECT seq, text FROM events WHERE sid = (SELECT sid FROM sessions WHERE id = ?)"
                f" AND seq IN ({marks})",
                [session_id, *missing],
            )
            texts = {r[0]: r[1] or "" for r in found}
        else:
            texts = {}
        for e in shared:
            ref = e.data["same_text_as"]
            e.text = by_seq[ref].text if ref in by_seq else texts.get(ref, "")

    async def event(self, session_id: str, seq: int) -> Event | None:
        cols = ",".join(EVENT_COLUMNS)
        row = await one(
            self.db,
            f"SELECT {cols} FROM events WHERE sid = (SELECT sid FROM sessions WHERE id = ?) AND seq = ?",
            (session_id, seq),
        )
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
            out[name] = await scalar(self.db, sql)
        return out

    # ------------------------------------------------------------------ signals and issues
    async def signals(self, session_id: str | None = None, *, kinds: Iterable[str] | None = None) -> list[Signal]:
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
        return [sigsql.row_signal(r) for r in await rows(self.db, sql + " ORDER BY session_id, seq, kind", args)]

    async def session_infos(self) -> dict[str, SessionInfo]:
        return {r[0]: sigsql.session_info(r) for r in await rows(self.db, sigsql.SESSION_INFO_SELECT)}

    async def issues(self) -> list[Issue]:
        """The stored default-scope ranking (rebuilt by ``pipeline.refresh``)."""
        found = await rows(self.db, f"SELECT {', '.join(sigsql.ISSUE_COLUMNS)} FROM issues ORDER BY rank")
        return [sigsql.row_issue(r) for r in found]

    async def signal_stats(
        self, origins: Sequence[str] | None = None
    ) -> list[tuple[str, str, int, int, int, float, int]]:
        """Per signal kind: (kind, polarity, signals, sessions, turns lost, seconds lost, tokens lost)."""
        sql = (
            "SELECT g.kind, g.polarity, COUNT(*), COUNT(DISTINCT g.session_id), SUM(g.cost_turns),"
            " SUM(g.cost_seconds), SUM(g.cost_tokens) FROM signals g"
        )
        args: list[Any] = []
        if origins is not None:
            sql += f" JOIN sessions s ON s.id = g.session_id WHERE s.origin IN ({','.join('?' * len(origins))})"
            args = list(origins)
        return [tuple(r) for r in await rows(self.db, sql + " GROUP BY g.kind, g.polarity ORDER BY g.kind", args)]

    async def sessions_with(self, polarity: str, origins: Sequence[str] | None = None) -> int:
        sql = "SELECT COUNT(DISTINCT g.session_id) FROM signals g JOIN sessions s ON s.id = g.session_id WHERE g.polarity = ?"
        args: list[Any] = [polarity]
        if origins is not None:
            sql += f" AND s.origin IN ({','.join('?' * len(origins))})"
            args.extend(origins)
        return await scalar(self.db, sql, args)

    async def malformed_lines(self, limit: int = 50) -> list[tuple[str, int, str, str]]:
        sql = "SELECT path, line, reason, excerpt FROM malformed ORDER BY path, line LIMIT ?"
        return [tuple(r) for r in await rows(self.db, sql, (limit,))]


#: Seconds a connection waits for another's lock (``PRAGMA busy_timeout``), and for the switch to WAL.
BUSY_TIMEOUT_S = 10.0


async def _switch_to_wal(db: aiosqlite.Connection) -> None:
    """``PRAGMA journal_mode = WAL``, waiting as long as the busy timeout for other connections to let go.

    SQLite answers "database is locked" at once, without its busy handler, when another connection holds a
    write transaction on a database still in rollback mode (several processes creating one database at the
    same moment): the switch is tried again until the timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    pause = 0.01
    while True:
        try:
            await rows(db, "PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.2)


async def scalar(db: aiosqlite.Connection, sql: str, args: Sequence[Any] = ()) -> Any:
    """The first column of the one row an aggregate (``COUNT``) or ``PRAGMA`` query always returns."""
    row = await one(db, sql, args)
    if row is None:
        raise StoreError("the database returned no row for a query that always has one")
    return row[0]


def _filters(
    *, origin: str | None, repo: str | None, since: str | None, agent: str | None = None
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if agent:  # see model.events.agent_of
        clauses.append("originator = 'claude_code'" if agent == "claude_code" else "originator IS NOT 'claude_code'")
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
