"""The ingest write path: store one file's parse result in a single SQLite transaction.

This runs next to the parser — in worker processes for big ingests, in a thread for small ones — on its
own ``sqlite3`` connection, so parsed rows never cross a process boundary (pickling them cost more than
parsing). SQLite serializes the writers; WAL lets the app's aiosqlite connection keep reading meanwhile.
A transaction holds a file's events, its session row and its new byte offset: all or nothing.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from typing import Any

from ccl_tui.model.events import EVENT_COLUMNS, Session
from ccl_tui.sources.parse import PARSER_VERSION, FileParse, ParseFn, aggregates, from_wire, parse_file
from ccl_tui.sources.reader import BadLine
from ccl_tui.store.signals import replace_signals
from ccl_tui.store.tx import Batch, transaction

SESSION_COLUMNS = (
    "id",
    "file",
    "era",
    "started_at",
    "ended_at",
    "cwd",
    "repo",
    "originator",
    "source",
    "origin",
    "cli_version",
    "model",
    "model_provider",
    "git_commit",
    "git_branch",
    "git_repo_url",
    "forked_from",
    "parent_id",
    "instructions_size",
)
_INSERT_EVENTS = f"INSERT INTO events({','.join(EVENT_COLUMNS)}) VALUES ({','.join('?' * len(EVENT_COLUMNS))})"
#: The aggregates kept on a session row (computed from its events, see :func:`aggregates`).
AGGREGATE_COLUMNS = (
    "events",
    "turns",
    "user_messages",
    "tool_calls",
    "tokens_total",
    "context_window",
    "max_context_input",
)
_SESSION_ALL = (*SESSION_COLUMNS, *AGGREGATE_COLUMNS)
_UPSERT_SESSION = (
    f"INSERT INTO sessions({','.join(_SESSION_ALL)}, updated_at) VALUES ({','.join('?' * len(_SESSION_ALL))},"
    " strftime('%Y-%m-%dT%H:%M:%fZ','now')) ON CONFLICT(id) DO UPDATE SET "
    + ",".join(f"{c}=excluded.{c}" for c in _SESSION_ALL[1:])
    + ", updated_at=excluded.updated_at RETURNING sid"
)
_UPSERT_FILE = (
    "INSERT INTO files(path, session_id, status, size, mtime_ns, head_hash, offset, lines, malformed,"
    " pending_bytes, compressed, state, error, parser, ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
    " strftime('%Y-%m-%dT%H:%M:%fZ','now')) ON CONFLICT(path) DO UPDATE SET session_id=excluded.session_id,"
    " status=excluded.status, size=excluded.size, mtime_ns=excluded.mtime_ns, head_hash=excluded.head_hash,"
    " offset=excluded.offset, lines=excluded.lines, malformed=excluded.malformed,"
    " pending_bytes=excluded.pending_bytes, compressed=excluded.compressed, state=excluded.state,"
    " error=excluded.error, parser=excluded.parser, ingested_at=excluded.ingested_at"
)


@dataclass(slots=True)
class FileOutcome:
    """What ingesting one file did; small, so it crosses process boundaries cheaply."""

    path: str
    status: str  # new | updated | replaced | duplicate | empty | unrecognized | error
    session_id: str | None = None
    events_added: int = 0
    bad: list[BadLine] = field(default_factory=list)
    pending_bytes: int = 0
    error: str | None = None
    skipped_replay: int = 0
    clash: str | None = None  # the session's id was another session's: stored under a derived id
    detected: dict[str, int] | None = None  # signals per kind stored with the events (detected next to the parser)


_local = threading.local()


def connect(db_path: str) -> sqlite3.Connection:
    con = sqlite3.connect(db_path, isolation_level=None, timeout=60.0, check_same_thread=True)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")
    con.execute("PRAGMA busy_timeout = 60000")
    return con


def _connection(db_path: str) -> sqlite3.Connection:
    cons: dict[str, sqlite3.Connection] | None = getattr(_local, "cons", None)
    if cons is None:
        cons = _local.cons = {}
        _local.batches = {}
    con = cons.get(db_path)
    if con is None:
        con = cons[db_path] = connect(db_path)
        _local.batches[db_path] = Batch(con)
    return con


def _batch(db_path: str) -> Batch:
    _connection(db_path)
    batch: Batch = _local.batches[db_path]
    return batch


def close_connections() -> None:
    """Commit this thread's open write batches and close its writer connections (called when an ingest ends,
    however it ends: every file stored so far was stored whole)."""
    for path, con in getattr(_local, "cons", {}).items():
        batch = _local.batches.get(path)
        try:
            if batch is not None:
                batch.commit()
        except sqlite3.Error:
            batch.rollback()  # the database refused the commit: those files are read again next time
        finally:
            con.close()
    _local.cons = {}
    _local.batches = {}


def ingest_file(
    db_path: str,
    path: str,
    offset: int,
    start_line: int,
    state: bytes | None,
    parse: ParseFn = parse_file,
    extra: tuple[Any, ...] = (),
) -> FileOutcome:
    """Parse ``path`` from ``offset`` (with ``parse``, see :data:`ParseFn`) and store the result. Never raises
    for bad content."""
    return _store(db_path, parse(path, offset, start_line, state, *extra))


def _store(db_path: str, parse: FileParse) -> FileOutcome:
    """Write one parse result in the thread's current batch; a file whose rows cannot be stored is recorded as
    an error, and only it (its block is rolled back, the batch's other files stay)."""
    con = _connection(db_path)
    batch = _batch(db_path)
    batch.begin()
    try:
        return _store_one(con, parse)
    finally:
        batch.done_one()


def _store_one(con: sqlite3.Connection, parse: FileParse) -> FileOutcome:
    if parse.error and parse.session is None:
        record_error(con, parse.path, parse.error)
        return FileOutcome(parse.path, "error", error=parse.error)
    try:
        outcome = write_parse(con, parse)
    except sqlite3.OperationalError:
        raise  # the database itself (locked, full, read-only): the caller reports it
    except (sqlite3.Error, OverflowError, TypeError, ValueError) as exc:
        error = f"not stored: {type(exc).__name__}: {exc}"[:300]
        record_error(con, parse.path, error)
        return FileOutcome(parse.path, "error", error=error)
    outcome.error = parse.error
    return outcome


def write_wire(db_path: str, blob: bytes) -> FileOutcome:
    """Store a parse result produced by a worker process (see ``parse_file_wire``)."""
    return _store(db_path, from_wire(blob))


def record_error(con: sqlite3.Connection, path: str, error: str) -> None:
    con.execute(
        "INSERT INTO files(path, status, error, ingested_at) VALUES (?, 'error', ?,"
        " strftime('%Y-%m-%dT%H:%M:%fZ','now')) ON CONFLICT(path) DO UPDATE SET error=excluded.error,"
        " ingested_at=excluded.ingested_at",
        (path, error),
    )


def write_parse(con: sqlite3.Connection, parse: FileParse) -> FileOutcome:
    """Store a parse result atomically. A copy of a session (same id, other file) is recorded as a
    duplicate unless it is larger than the current owner or the owner file is gone, then it takes over."""
    s = parse.session
    out = FileOutcome(
        parse.path, "", bad=parse.bad, pending_bytes=parse.pending_bytes, skipped_replay=parse.skipped_replay
    )
    detected_as = s.id if s is not None else None
    with transaction(con):
        if s is None:
            out.status = file_status = "empty" if parse.lines == 0 else "unrecognized"
        else:
            _write_session(con, parse, s, out)
            out.session_id = s.id
            file_status = "duplicate" if out.status == "duplicate" else "ok"
            if parse.signals is not None and parse.full and s.id == detected_as and out.status != "duplicate":
                # Detected from exactly the events just stored: stored with them, so nothing reads them back.
                replace_signals(con, s.id, parse.signals, len(parse.rows), parse.fingerprint)
                out.detected = {}
                for sig in parse.signals:
                    out.detected[sig.kind] = out.detected.get(sig.kind, 0) + 1
        if parse.full:
            con.execute("DELETE FROM malformed WHERE path = ?", (parse.path,))
        if parse.bad:
            con.executemany(
                "INSERT OR REPLACE INTO malformed(path, line, reason, excerpt) VALUES (?,?,?,?)",
                [(parse.path, b.line, b.reason, b.excerpt) for b in parse.bad],
            )
        if parse.full:
            malformed = len({b.line for b in parse.bad})
        else:
            malformed = con.execute("SELECT COUNT(*) FROM malformed WHERE path = ?", (parse.path,)).fetchone()[0]
        con.execute(
            _UPSERT_FILE,
            (
                parse.path,
                s.id if s else None,
                file_status,
                parse.size,
                parse.mtime_ns,
                parse.head_hash,
                parse.end_offset,
                parse.lines,
                malformed,
                parse.pending_bytes,
                parse.compressed,
                parse.state,
                parse.error,
                PARSER_VERSION,
            ),
        )
    return out


def _write_session(con: sqlite3.Connection, parse: FileParse, s: Session, out: FileOutcome) -> None:
    if not parse.full:  # a continued file keeps the id it was stored under (a derived one after a clash)
        frow = con.execute("SELECT session_id FROM files WHERE path = ?", (parse.path,)).fetchone()
        if frow and frow[0] and frow[0] != s.id:
            s.id = frow[0]
    row = con.execute(
        "SELECT file, events, turns, user_messages, tool_calls, tokens_total, context_window, max_context_input"
        " FROM sessions WHERE id = ?",
        (s.id,),
    ).fetchone()
    owner = row[0] if row else None
    if owner is not None and owner != parse.path and parse.full:
        orow = con.execute("SELECT head_hash FROM files WHERE path = ?", (owner,)).fetchone()
        if orow and orow[0] and parse.head_hash and orow[0] != parse.head_hash:
            # Same id, different beginning: another session, not a copy. Kept apart, under a derived id.
            clash = s.id
            s.id = f"{clash}~{hashlib.blake2b(parse.path.encode(), digest_size=4).hexdigest()}"
            out.clash = f"session id {clash} is also used by {owner} (a different session): stored as {s.id}"
            row = con.execute(
                "SELECT file, events, turns, user_messages, tool_calls, tokens_total, context_window,"
                " max_context_input FROM sessions WHERE id = ?",
                (s.id,),
            ).fetchone()
            owner = row[0] if row else None
    previous = row[1:] if row and owner == parse.path and not parse.full else None
    if owner is not None and owner != parse.path:
        orow = con.execute("SELECT size FROM files WHERE path = ?", (owner,)).fetchone()
        takes_over = parse.full and (not os.path.exists(owner) or parse.size > (orow[0] if orow else 0))
        if not takes_over:
            out.status = "duplicate"
            return
        con.execute("UPDATE files SET status = 'duplicate' WHERE path = ?", (owner,))
        out.status = "replaced"
    totals = combine(parse.aggregates or aggregates(parse.rows), previous)
    sid = con.execute(
        _UPSERT_SESSION,
        (
            s.id,
            parse.path,
            s.era,
            s.started_at,
            s.ended_at or s.started_at,
            s.cwd,
            s.repo,
            s.originator,
            s.source,
            s.origin,
            s.cli_version,
            s.model,
            s.model_provider,
            s.git_commit,
            s.git_branch,
            s.git_repo_url,
            s.forked_from,
            s.parent_id,
            s.instructions_size,
            *totals,
        ),
    ).fetchone()[0]
    if parse.full and owner is not None:
        con.execute("DELETE FROM events WHERE sid = ?", (sid,))
        con.execute("DELETE FROM detection WHERE session_id = ?", (s.id,))  # re-read: detect again
    if parse.rows:
        con.executemany(_INSERT_EVENTS, [(sid, *r[1:]) for r in parse.rows])
    out.events_added = len(parse.rows)
    if not out.status:
        out.status = "new" if owner is None else "updated"


def combine(new: tuple, previous: tuple | None) -> tuple:
    """Session aggregates of new rows combined with the stored ones of a continued file."""
    if previous is None:
        return new
    events, turns, users, calls, total, window, peak = previous
    n_events, n_turns, n_users, n_calls, n_total, n_window, n_peak = new
    return (
        events + n_events,
        max(turns, n_turns),
        users + n_users,
        calls + n_calls,
        _max(total, n_total),
        _max(window, n_window),
        _max(peak, n_peak),
    )


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)
