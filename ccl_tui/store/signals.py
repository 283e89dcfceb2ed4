"""SQL for signals, detection state and issues (sync: runs in a worker thread next to the detectors)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import asdict

import orjson

from ccl_tui.issues.model import Evidence, Impact, Issue
from ccl_tui.signals.model import Cost, Signal
from ccl_tui.sources.model import EVENT_COLUMNS, Event, row_to_event

SIGNAL_COLUMNS = (
    "session_id", "kind", "polarity", "seq", "evidence", "turn", "severity", "signature", "detail", "call_id",
    "ts", "source", "cost_turns", "cost_seconds", "cost_tokens", "resolved",
)  # fmt: skip
_SELECT_SIGNALS = f"SELECT {', '.join(SIGNAL_COLUMNS)} FROM signals"


def pending_sessions(con: sqlite3.Connection, fingerprint: str) -> list[tuple[str, str | None]]:
    """Sessions whose signals are missing or stale (new events, other detector version or thresholds)."""
    return con.execute(
        "SELECT s.id, s.origin FROM sessions s LEFT JOIN detection d ON d.session_id = s.id"
        " WHERE d.session_id IS NULL OR d.events != s.events OR d.fingerprint != ? ORDER BY s.id",
        (fingerprint,),
    ).fetchall()


def session_events(con: sqlite3.Connection, session_id: str) -> list[Event]:
    rows = con.execute(
        f"SELECT {','.join(EVENT_COLUMNS)} FROM events WHERE sid = (SELECT sid FROM sessions WHERE id = ?)"
        " ORDER BY seq",
        (session_id,),
    ).fetchall()
    events = [row_to_event(r) for r in rows]
    by_seq = {e.seq: e for e in events}
    for e in events:
        ref = e.data.get("same_text_as")
        if ref is not None and not e.text and ref in by_seq:
            e.text = by_seq[ref].text
    return events


def signal_row(s: Signal) -> tuple:
    return (
        s.session_id, s.kind, s.polarity, s.seq, orjson.dumps(s.evidence).decode(), s.turn, s.severity,
        s.signature, s.detail, s.call_id, s.timestamp, s.source, s.cost.turns, s.cost.seconds, s.cost.tokens,
        int(s.cost.resolved),
    )  # fmt: skip


def row_signal(r: tuple | sqlite3.Row) -> Signal:
    (session_id, kind, _pol, _seq, evidence, turn, severity, signature, detail, call_id, ts, source, turns,
     seconds, tokens, resolved) = r  # fmt: skip
    return Signal(
        kind=kind, session_id=session_id, evidence=orjson.loads(evidence), turn=turn, severity=severity,
        signature=signature, detail=detail or "", call_id=call_id, timestamp=ts,
        cost=Cost(turns=turns, seconds=seconds, tokens=tokens, resolved=bool(resolved)), source=source,
    )  # fmt: skip


def replace_signals(
    con: sqlite3.Connection, session_id: str, signals: Iterable[Signal], n_events: int, fingerprint: str,
    *, source: str = "rule",
) -> None:  # fmt: skip
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


def issue_row(i: Issue) -> tuple:
    dumps = orjson.dumps
    return (
        i.id, i.rank, i.signature, i.kind, i.title, dumps(asdict(i.impact)).decode(), i.impact.impact,
        i.occurrences, i.first_seen, i.last_seen, dumps(i.repos).decode(), dumps(i.origins).decode(),
        dumps(i.kinds).decode(), dumps(i.session_ids).decode(), dumps([asdict(e) for e in i.evidence]).decode(),
        i.cluster_id,
    )  # fmt: skip


ISSUE_COLUMNS = (
    "id", "rank", "signature", "kind", "title", "impact", "score", "occurrences", "first_seen", "last_seen",
    "repos", "origins", "kinds", "session_ids", "evidence", "cluster_id",
)  # fmt: skip


def row_issue(r: tuple | sqlite3.Row) -> Issue:
    (iid, rank, signature, kind, title, impact, _score, occurrences, first_seen, last_seen, repos, origins,
     kinds, session_ids, evidence, cluster_id) = r  # fmt: skip
    ev = [Evidence(**e) for e in orjson.loads(evidence)]
    return Issue(
        id=iid, signature=signature, kind=kind, title=title, impact=Impact(**orjson.loads(impact)),
        occurrences=occurrences, first_seen=first_seen, last_seen=last_seen, repos=orjson.loads(repos),
        origins=orjson.loads(origins), kinds=orjson.loads(kinds), session_ids=orjson.loads(session_ids),
        representative=ev[0] if ev else None, evidence=ev, rank=rank, cluster_id=cluster_id,
    )  # fmt: skip


def ranking_inputs(con: sqlite3.Connection) -> str:
    """What the stored ranking depends on in the database: any signal or session change alters it."""
    n, last = con.execute("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM signals").fetchone()
    sessions = con.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
    return f"{n}:{last}:{sessions}"


def get_meta(con: sqlite3.Connection, key: str) -> str | None:
    row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(con: sqlite3.Connection, key: str, value: str) -> None:
    con.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value))  # fmt: skip


def replace_issues(con: sqlite3.Connection, issues: list[Issue]) -> None:
    con.execute("DELETE FROM issues")
    con.executemany(
        f"INSERT INTO issues({', '.join(ISSUE_COLUMNS)}) VALUES ({','.join('?' * len(ISSUE_COLUMNS))})",
        [issue_row(i) for i in issues],
    )
