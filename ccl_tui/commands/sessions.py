"""``ccl-tui sessions`` and ``ccl-tui show``: list sessions, print one transcript as plain text."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from rich.table import Table
from rich.text import Text

from ccl_tui.commands.common import console, print_json, run_with_store
from ccl_tui.model.events import agent_of
from ccl_tui.store.db import SessionSummary, Store
from ccl_tui.transcript import transcript_lines

# The id is what `show` takes; any unique prefix works, so narrow terminals get the first 13 characters (the
# UUID's first two groups), which stay unique in stores of millions of sessions.
SHORT_ID = 13
WIDE = 110  # from this width up the full id fits next to everything else
AGENT_WIDTH = 13  # the agent column ("claude_code") and its gap


def sessions_table(rows: list[SessionSummary], width: int) -> Table:
    """The sessions list, with its columns chosen for ``width``: nothing is cut mid-value except the repo.

    Full width: full id, start, repo / cwd, agent (from 90 columns, when a Claude Code session is listed),
    origin, turns, events. Narrower: a short id (a unique prefix `show` accepts). Below 64 columns the origin
    goes (the scope line of `report` names origins), below 56 the id keeps its first group and the start time
    only its date, and below 48 the event count goes; the repo column takes what is left and ends with an
    ellipsis when it must.
    """
    mixed = any(agent_of(r.originator) != "codex" for r in rows)  # the agent is named once another shows up
    agent_col = mixed and width >= 90
    wide = width >= WIDE + (AGENT_WIDTH if agent_col else 0)
    short = SHORT_ID if width >= 56 else 8
    seen: dict[str, int] = {}
    for r in rows:
        seen[r.id[:short]] = seen.get(r.id[:short], 0) + 1
    cols: list[str] = ["id", "start", "repo / cwd"]
    if agent_col:
        cols.append("agent")
    if width >= 64:
        cols.append("origin")
    cols.append("turns")
    if width >= 48:
        cols.append("events")
    t = Table(box=None, header_style="bold", pad_edge=False)
    for col in cols:
        if col == "repo / cwd":
            t.add_column(col, ratio=1, min_width=8, no_wrap=True, overflow="ellipsis")
        else:
            t.add_column(col, justify="right" if col in ("turns", "events") else "left", no_wrap=True)
    for r in rows:
        values = {
            # a prefix two listed sessions share (ids kept apart as `id~hash`) would not name one: show it whole
            "id": r.id if wide or seen[r.id[:short]] > 1 else r.id[:short],
            "start": (r.started_at or "")[: 16 if width >= 56 else 10].replace("T", " "),
            "repo / cwd": r.repo or r.cwd or "",
            "agent": agent_of(r.originator),
            "origin": r.origin or "",
            "turns": str(r.turns),
            "events": str(r.events),
        }
        t.add_row(*(Text(values[c]) for c in cols))
    return t


def cmd_sessions(args: argparse.Namespace) -> int:
    async def load(store: Store) -> list[SessionSummary]:
        return await store.sessions(
            origin=args.origin, repo=args.repo, since=args.since, limit=args.limit, agent=args.agent
        )

    rows = run_with_store(args.db, load)
    if args.json:
        print_json([{**asdict(r), "agent": agent_of(r.originator)} for r in rows])
        return 0
    con = console()
    if not rows:
        con.print("No sessions in the store yet. Run `ccl-tui ingest [PATH]` first.")
        return 0
    con.print(sessions_table(rows, con.width))
    con.print(Text(f"{len(rows)} session(s)"))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    async def load(store: Store) -> tuple[SessionSummary | None, list]:
        s = await store.session(args.session_id)
        return s, (await store.events(s.id) if s else [])

    session, events = run_with_store(args.db, load)
    con = console()
    if session is None:
        console(stderr=True).print(Text(f"No session matches {args.session_id!r} (give a full id or a unique prefix)."))
        return 2
    if args.json:
        print_json({"session": asdict(session), "events": [asdict(e) for e in events]})
        return 0
    con.print(Text(f"session {session.id}"))
    model = session.model or "not recorded"  # legacy files (mid 2025) name no model anywhere
    con.print(Text(f"  started {session.started_at}  origin {session.origin}  model {model}"))
    con.print(Text(f"  repo {session.repo}  cwd {session.cwd}  commit {session.git_commit or '?'}"))
    con.print(Text(f"  file {session.file}"))
    for line in transcript_lines(events, full=args.full):
        con.print(Text(line), soft_wrap=True)
    return 0
