"""SQL for signals, detection state and issues (sync: runs in a worker thread next to the detectors)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import asdict

import orjson

from ccl_tui.model.events import EVENT_COLUMNS, Event, agent_of, events_from_rows
from ccl_tui.model.issues import Evidence, Impact, Issue, SessionInfo
from ccl_tui.model.signals import Cost, Signal
from ccl_tui.store.semantic import reapply_cluster_ids
from ccl_tui.store.tx import transaction

SIGNAL_COLUMNS = (
    "session_id",
    "kind",
    "polarity",
    "seq",
    "evidence",
    "turn",
    "severity",
    "signature",
    "detail",
    "call_id",
    "ts",
    "source",
    "cost_turns",
    "cost_seconds",
    "cost_tokens",
    "resolved",
)
_SELECT_SIGNALS = f"SELECT {', '.join(SIGNAL_COLUMNS)} FROM signals"


def pending_sessions(con: sqlite3.Connection, fingerprint: str) -> list[tuple[str, str | None]]:
    """Sessions whose signals are missing or stale (new events, other detector version or thresholds), by id.

    The sessions table is read in its own order (NOT INDEXED: walking the id index would visit its rows in
    random order, 4x slower at 10,000 sessions) and the few pending ones are sorted here: an unchanged re-run
    pays for this query on every ``ingest``."""
    found = con.execute(
        "SELECT s.id, s.origin FROM sessions s NOT INDEXED LEFT JOIN detection d ON d.session_id = s.id"
        " WHERE d.session_id IS NULL OR d.events != s.events OR d.fingerprint != ?",
        (fingerprint,),
    ).fetchall()
    found.sort()
    return found


def session_events(con: sqlite3.Connection, session_id: str) -> list[Event]:
    rows = con.execute(
        f"SELECT {','.join(EVENT_COLUMNS)} FROM events WHERE sid = (SELECT sid FROM sessions WHERE id = ?)"
        " ORDER BY seq",
        (session_id,),
    ).fetchall()
    return events_from_rows(rows)


def signal_row(s: Signal) -> tuple:
    return (
        s.session_id,
        s.kind,
        s.polarity,
        s.seq,
        orjson.dumps(s.evidence).decode(),
        s.turn,
        s.severity,
        s.signature,
        s.detail,
        s.call_id,
        s.timestamp,
        s.source,
        s.cost.turns,
        s.cost.seconds,
        s.cost.tokens,
        int(s.cost.resolved),
    )


def row_signal(r: tuple | sqlite3.Row) -> Signal:
    (
        session_id,
        kind,
        _pol,
        _seq,
        evidence,
        turn,
        severity,
        signature,
        detail,
        call_id,
        ts,
        source,
        turns,
        seconds,
        tokens,
        resolved,
    ) = r
    return Signal(
        kind=kind,
        session_id=session_id,
        evidence=orjson.loads(evidence),
        turn=turn,
        severity=severity,
        signature=signature,
        detail=detail or "",
        call_id=call_id,
        timestamp=ts,
        cost=Cost(turns=turns, seconds=seconds, tokens=tokens, resolved=bool(resolved)),
        source=source,
    )


def replace_signals(
    con: sqlite3.Connection,
    session_id: str,
    signals: Iterable[Signal],
    n_events: int,
    fingerprint: str,
    *,
    source: str = "rule",
) -> None:
    """Replace one session's signals of ``source`` (its own transaction is the caller's)."""
    con.execute("DELETE FROM signals WHERE session_id = ? AND source = ?", (session_id, source))
    con.executemany(
        f"INSERT INTO signals({', '.join(SIGNAL_COLUMNS)}) VALUES ({','.join('?' * len(SIGNAL_COLUMNS))})",
        [signal_row(s) for s in signals],
    )
    if source == "rule":
        con.execute(
            "INSERT INTO detection(session_id, events, fingerprint, detected_at) VALUES (?,?,?,"
            " strftime('%Y-%m-%dT%H:%M:%fZ','now')) ON CONFLICT(session_id) DO UPDATE SET events=excluded.events,"
            " fingerprint=excluded.fingerprint, detected_at=excluded.detected_at",
            (session_id, n_events, fingerprint),
        )


def all_signals(con: sqlite3.Connection) -> list[Signal]:
    return [row_signal(r) for r in con.execute(_SELECT_SIGNALS + " ORDER BY session_id, seq")]


def signals_by_session(con: sqlite3.Connection, source: str) -> dict[str, list[Signal]]:
    """Stored signals of one ``source`` ("rule" or "model"), per session, in event order."""
    out: dict[str, list[Signal]] = {}
    for r in con.execute(_SELECT_SIGNALS + " WHERE source = ? ORDER BY session_id, seq", (source,)):
        s = row_signal(r)
        out.setdefault(s.session_id, []).append(s)
    return out


def save_detections(
    con: sqlite3.Connection,
    detected: Iterable[tuple[str, list[Signal], int]],
    fingerprint: str,
    *,
    source: str = "rule",
) -> None:
    """Replace the ``source`` signals of each ``(session id, signals, events seen)`` in one transaction."""
    with transaction(con):
        for sid, sigs, n_events in detected:
            replace_signals(con, sid, sigs, n_events, fingerprint, source=source)


#: The columns a SessionInfo is built from, shared by the sync and the async readers.
SESSION_INFO_SELECT = "SELECT id, repo, origin, started_at, originator FROM sessions"


def session_info(r: tuple | sqlite3.Row) -> SessionInfo:
    return SessionInfo(r[1] or "(unknown)", r[2] or "other", r[3], agent_of(r[4]))


def session_infos(con: sqlite3.Connection) -> dict[str, SessionInfo]:
    return {r[0]: session_info(r) for r in con.execute(SESSION_INFO_SELECT)}


def session_origins(con: sqlite3.Connection) -> dict[str, str | None]:
    return dict(con.execute("SELECT id, origin FROM sessions").fetchall())


def issue_count(con: sqlite3.Connection) -> int:
    return int(con.execute("SELECT COUNT(*) FROM issues").fetchone()[0])


def issue_row(i: Issue) -> tuple:
    dumps = orjson.dumps
    return (
        i.id,
        i.rank,
        i.signature,
        i.kind,
        i.title,
        dumps(asdict(i.impact)).decode(),
        i.impact.impact,
        i.occurrences,
        i.first_seen,
        i.last_seen,
        dumps(i.repos).decode(),
        dumps(i.origins).decode(),
        dumps(i.kinds).decode(),
        dumps(i.session_ids).decode(),
        dumps([asdict(e) for e in i.evidence]).decode(),
        i.cluster_id,
        dumps(i.agents).decode(),
    )


ISSUE_COLUMNS = (
    "id",
    "rank",
    "signature",
    "kind",
    "title",
    "impact",
    "score",
    "occurrences",
    "first_seen",
    "last_seen",
    "repos",
    "origins",
    "kinds",
    "session_ids",
    "evidence",
    "cluster_id",
    "agents",
)


def row_issue(r: tuple | sqlite3.Row) -> Issue:
    (
        iid,
        rank,
        signature,
        kind,
        title,
        impact,
        _score,
        occurrences,
        first_seen,
        last_seen,
        repos,
        origins,
        kinds,
        session_ids,
        evidence,
        cluster_id,
        agents,
    ) = r
    ev = [Evidence(**e) for e in orjson.loads(evidence)]
    return Issue(
        id=iid,
        signature=signature,
        kind=kind,
        title=title,
        impact=Impact(**orjson.loads(impact)),
        occurrences=occurrences,
        first_seen=first_seen,
        last_seen=last_seen,
        repos=orjson.loads(repos),
        origins=orjson.loads(origins),
        agents=orjson.loads(agents or "{}"),
        kinds=orjson.loads(kinds),
        session_ids=orjson.loads(session_ids),
        representative=ev[0] if ev else None,
        evidence=ev,
        rank=rank,
        cluster_id=cluster_id,
    )


def ranking_inputs(con: sqlite3.Connection) -> str:
    """What the stored ranking depends on in the database: any signal or session change alters it."""
    n, last = con.execute("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM signals").fetchone()
    sessions = con.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
    return f"{n}:{last}:{sessions}"


def get_meta(con: sqlite3.Connection, key: str) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(con: sqlite3.Connection, key: str, value: str) -> None:
    con.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value)
    )


def save_ranking(con: sqlite3.Connection, issues: list[Issue], inputs: str) -> None:
    """Store a new default-scope ranking and what it was computed from, in one transaction. Cluster ids from
    the last ``analyze`` are restored onto the rebuilt issues."""
    with transaction(con):
        replace_issues(con, issues)
        reapply_cluster_ids(con)
        set_meta(con, "ranking_inputs", inputs)


def replace_issues(con: sqlite3.Connection, issues: list[Issue]) -> None:
    con.execute("DELETE FROM issues")
    con.executemany(
        f"INSERT INTO issues({', '.join(ISSUE_COLUMNS)}) VALUES ({','.join('?' * len(ISSUE_COLUMNS))})",
        [issue_row(i) for i in issues],
    )
