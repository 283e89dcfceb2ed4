"""SQL of the semantic layer: LLM cache, clusters and their members, analyze runs, user messages to classify.

Async functions take the store's aiosqlite connection (``store.db``); :func:`reapply_cluster_ids` is sync for
the detection thread (``pipeline.detect_pending_sync`` rewrites the ``issues`` table, and with it
``cluster_id``; the membership survives in ``cluster_members``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite
import orjson

from ccl_tui.store.tx import atransaction, rows, select_in

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"


# --------------------------------------------------------------------------------------------- LLM cache
@dataclass(slots=True)
class CachedResponse:
    key: str
    purpose: str
    model: str
    response: Any
    input_tokens: int
    output_tokens: int
    cost_usd: float


async def cache_get(db: aiosqlite.Connection, keys: Iterable[str]) -> dict[str, CachedResponse]:
    keys = list(dict.fromkeys(keys))
    out: dict[str, CachedResponse] = {}
    sql = "SELECT key, purpose, model, response, input_tokens, output_tokens, cost_usd FROM llm_cache WHERE key"
    for r in await select_in(db, sql, keys):
        out[r[0]] = CachedResponse(r[0], r[1], r[2], orjson.loads(r[3]), r[4], r[5], r[6])
    return out


async def cache_put(db: aiosqlite.Connection, c: CachedResponse) -> None:
    await db.execute(
        "INSERT INTO llm_cache(key, purpose, model, response, input_tokens, output_tokens, cost_usd, created_at)"
        f" VALUES (?,?,?,?,?,?,?,{_NOW}) ON CONFLICT(key) DO UPDATE SET response=excluded.response,"
        " input_tokens=excluded.input_tokens, output_tokens=excluded.output_tokens, cost_usd=excluded.cost_usd,"
        " created_at=excluded.created_at",
        (c.key, c.purpose, c.model, orjson.dumps(c.response).decode(), c.input_tokens, c.output_tokens, c.cost_usd),
    )


# --------------------------------------------------------------------------------------------- clusters
@dataclass(slots=True)
class ClusterRow:
    id: str
    embedder: str
    name: str
    summary: str
    model_derived: bool
    members: list[str]  # issue ids
    signatures: list[str]
    updated_at: str | None = None


async def membership(db: aiosqlite.Connection) -> dict[str, str]:
    """issue id -> cluster id, as of the last analyze run."""
    return {r[0]: r[1] for r in await rows(db, "SELECT issue_id, cluster_id FROM cluster_members")}


async def load_clusters(db: aiosqlite.Connection) -> list[ClusterRow]:
    sql = "SELECT id, embedder, name, summary, model_derived, members, signatures, updated_at FROM clusters ORDER BY id"
    return [
        ClusterRow(r[0], r[1], r[2], r[3], bool(r[4]), orjson.loads(r[5]), orjson.loads(r[6]), r[7])
        for r in await rows(db, sql)
    ]


async def replace_clusters(db: aiosqlite.Connection, clusters: Sequence[ClusterRow]) -> None:
    """Store a clustering (all or nothing) and write each member issue's ``cluster_id``."""
    async with atransaction(db):
        await db.execute("DELETE FROM clusters")
        await db.execute("DELETE FROM cluster_members")
        await db.executemany(
            "INSERT INTO clusters(id, embedder, name, summary, model_derived, members, signatures, updated_at)"
            f" VALUES (?,?,?,?,?,?,?,{_NOW})",
            [
                (
                    c.id,
                    c.embedder,
                    c.name,
                    c.summary,
                    int(c.model_derived),
                    orjson.dumps(c.members).decode(),
                    orjson.dumps(c.signatures).decode(),
                )
                for c in clusters
            ],
        )
        await db.executemany(
            "INSERT OR REPLACE INTO cluster_members(issue_id, cluster_id, signature) VALUES (?,?,?)",
            [(iid, c.id, sig) for c in clusters for iid, sig in zip(c.members, c.signatures, strict=True)],
        )
        await db.execute(
            "UPDATE issues SET cluster_id = (SELECT cluster_id FROM cluster_members m WHERE m.issue_id = issues.id)"
        )


def reapply_cluster_ids(con: sqlite3.Connection) -> None:
    """Sync: restore ``issues.cluster_id`` from ``cluster_members`` after the issues table was rebuilt."""
    con.execute(
        "UPDATE issues SET cluster_id = (SELECT cluster_id FROM cluster_members m WHERE m.issue_id = issues.id)"
    )


# --------------------------------------------------------------------------------------------- runs
async def record_run(db: aiosqlite.Connection, embedder: str, llm: bool, summary: dict[str, Any]) -> None:
    await db.execute(
        f"INSERT INTO semantic_runs(finished_at, embedder, llm, summary) VALUES ({_NOW}, ?, ?, ?)",
        (embedder, int(llm), orjson.dumps(summary).decode()),
    )


# --------------------------------------------------------------------------------------------- messages
@dataclass(slots=True)
class UserMessage:
    session_id: str
    seq: int
    turn: int
    text: str
    timestamp: str | None
    context: str  # the agent's last message before it (may be empty)


async def unflagged_user_messages(
    db: aiosqlite.Connection, origins: Sequence[str], *, min_turn: int = 2
) -> list[UserMessage]:
    """User prompts (after the first turn) in sessions of ``origins`` that no rule signal points at."""
    marks = ",".join("?" * len(origins))
    sql = f"""
        SELECT s.id, e.seq, e.turn, e.text, e.ts,
               (SELECT a.text FROM events a WHERE a.sid = e.sid AND a.seq < e.seq
                  AND a.kind = 'assistant_message' ORDER BY a.seq DESC LIMIT 1)
        FROM events e JOIN sessions s ON s.sid = e.sid
        WHERE e.kind = 'user_message' AND e.turn >= ? AND s.origin IN ({marks})
          AND NOT EXISTS (SELECT 1 FROM signals g WHERE g.session_id = s.id AND g.seq = e.seq
                          AND g.source = 'rule' AND g.kind IN ('user_pushback', 'positive_feedback'))
        ORDER BY s.id, e.seq
    """
    return [
        UserMessage(r[0], r[1], r[2], r[3] or "", r[4], r[5] or "") for r in await rows(db, sql, [min_turn, *origins])
    ]
