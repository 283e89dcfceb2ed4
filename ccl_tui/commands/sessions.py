"""``ccl-tui sessions`` and ``ccl-tui show``: list sessions, print one transcript as plain text."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from rich.table import Table
from rich.text import Text

from ccl_tui.commands.common import console, print_json, run_with_store
from ccl_tui.store.db import SessionSummary, Store
from ccl_tui.transcript import transcript_lines


def cmd_sessions(args: argparse.Namespace) -> int:
    async def load(store: Store) -> list[SessionSummary]:
        return await store.sessions(origin=args.origin, repo=args.repo, since=args.since, limit=args.limit)

    rows = run_with_store(args.db, load)
    if args.json:
        print_json([asdict(r) for r in rows])
        return 0
    con = console()
    if not rows:
        con.print("No sessions in the store yet. Run `ccl-tui ingest [PATH]` first.")
        return 0
    t = Table(box=None, header_style="bold")
    for col in ("id", "start", "repo / cwd", "origin", "turns", "events"):
        t.add_column(col, justify="right" if col in ("turns", "events") else "left", no_wrap=col == "id")
    for r in rows:
        t.add_row(
            Text(r.id),
            Text((r.started_at or "")[:16].replace("T", " ")),
            Text(r.repo or r.cwd or ""),
            Text(r.origin or ""),
            Text(str(r.turns)),
            Text(str(r.events)),
        )
    con.print(t)
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
