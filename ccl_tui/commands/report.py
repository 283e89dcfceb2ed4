"""``ccl-tui report`` and ``ccl-tui signals``: ranked issues with their score breakdown, and raw signals."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from rich.table import Table
from rich.text import Text

from ccl_tui.commands.common import console, print_json, print_text, run_with_store
from ccl_tui.model.issues import Evidence, Issue
from ccl_tui.model.signals import Signal
from ccl_tui.pipeline import Scope, ranked_issues, refresh, scope_from
from ccl_tui.scope import agents_text
from ccl_tui.store.db import Store
from ccl_tui.text.ansi import terminal_safe
from ccl_tui.text.redact import redact


def shown(text: str) -> str:
    """A text field (title, signature, detail: commands and outputs) as any report prints it, JSON included:
    what users paste into issues. Control sequences go first, so none can split a secret from the detector."""
    return redact(terminal_safe(text))


def evidence_json(e: Evidence) -> dict[str, Any]:
    return {**asdict(e), "detail": shown(e.detail)}


def issue_json(i: Issue, evidence_limit: int = 10) -> dict[str, Any]:
    d = {
        "rank": i.rank,
        "id": i.id,
        "title": shown(i.title),
        "kind": i.kind,
        "signature": shown(i.signature),
        "impact": {**asdict(i.impact), "formula": i.impact.formula()},
        "occurrences": i.occurrences,
        "sessions": i.impact.sessions,
        "repos": [shown(r) for r in i.repos],
        "origins": i.origins,
        "agents": i.agents,
        "kinds": i.kinds,
        "first_seen": i.first_seen,
        "last_seen": i.last_seen,
        "cluster_id": i.cluster_id,
        "evidence": [evidence_json(e) for e in i.evidence[:evidence_limit]],
    }
    return d


def signal_json(s: Signal) -> dict[str, Any]:
    return {
        "kind": s.kind,
        "polarity": s.polarity,
        "session_id": s.session_id,
        "seq": s.seq,
        "evidence": s.evidence,
        "call_id": s.call_id,
        "turn": s.turn,
        "severity": s.severity,
        "signature": shown(s.signature),
        "detail": shown(s.detail),
        "timestamp": s.timestamp,
        "source": s.source,
        "cost": asdict(s.cost),
    }


async def _scope_counts(store: Store, scope: Scope) -> dict[str, int]:
    infos = await store.session_infos()
    in_scope = sum(1 for i in infos.values() if scope.admits(i))
    automated = sum(1 for i in infos.values() if i.origin not in scope.origins)
    return {"sessions": len(infos), "sessions_in_scope": in_scope, "excluded_by_origin": automated}


def cmd_report(args: argparse.Namespace) -> int:
    scope = scope_from(
        args.origin, repo=args.repo, kind=args.kind, since=args.since, until=args.until, agent=args.agent
    )

    async def load(store: Store) -> tuple[list[Issue], dict[str, int], dict[str, Any]]:
        await refresh(store)
        issues = await ranked_issues(store, scope)
        groups: dict[str, Any] = {}
        if any(i.cluster_id for i in issues):
            from ccl_tui.semantic.analyze import clusters

            groups = {c.id: c for c in await clusters(store) if len(c.members) > 1}
        return issues, await _scope_counts(store, scope), groups

    issues, counts, groups = run_with_store(args.db, load)
    top = issues[: args.top] if args.top else issues
    if args.json:
        print_json(
            {
                "scope": {**asdict(scope), "description": scope.describe()},
                "counts": counts,
                "total_issues": len(issues),
                "issues": [issue_json(i) for i in top],
            }
        )
        return 0
    if args.markdown:
        print_text(markdown(top, scope, counts, len(issues)))
        return 0
    con = console()
    con.print(
        Text(
            f"Scope: {scope.describe()}  ({counts['sessions_in_scope']} of {counts['sessions']} sessions;"
            f" {counts['excluded_by_origin']} from other origins excluded, see --origin)"
        )
    )
    if not issues:
        con.print(Text("No friction found in scope. Ingest sessions first: ccl-tui ingest [PATH]"))
        return 0
    t = Table(box=None, header_style="bold")
    for col, justify in (
        ("#", "right"),
        ("impact", "right"),
        ("kind", "left"),
        ("title", "left"),
        ("sessions", "right"),
        ("last seen", "left"),
        ("id", "left"),
    ):
        t.add_column(col, justify="right" if justify == "right" else "left")
    for i in top:
        t.add_row(
            Text(str(i.rank)),
            Text(f"{i.impact.impact:.1f}"),
            Text(i.kind),
            Text(shown(i.title)),
            Text(str(i.impact.sessions)),
            Text((i.last_seen or "")[:10]),
            Text(i.id),
        )
    con.print(t)
    for i in top[: args.explain]:
        con.print(Text(f"\n#{i.rank} {shown(i.title)}  [{i.id}]", style="bold"))
        for line in i.impact.explain():
            con.print(Text("  " + line))
        by_agent = agents_text(i.agents)
        con.print(
            Text(
                f"  repos: {', '.join(shown(r) for r in i.repos)}   origins: {i.origins}"
                + (f"   sessions by agent: {by_agent}" if by_agent else "")
            )
        )
        group = groups.get(i.cluster_id or "")
        if group is not None:
            others = "; ".join(f"#{m.rank} {shown(m.title)}" for m in group.members if m.id != i.id)
            derived = " (model-derived name)" if group.model_derived else ""
            con.print(Text(f"  cluster {group.id} '{shown(group.name)}'{derived}: same problem as {others}"))
        for e in i.evidence[:3]:
            call = f" call {e.call_id}" if e.call_id else ""
            con.print(Text(f"  evidence: session {e.session_id} event #{e.seq}{call}: {shown(e.detail)}"))
    return 0


def markdown(issues: list[Issue], scope: Scope, counts: dict[str, int], total: int) -> str:
    def cell(s: str) -> str:
        return shown(s).replace("|", "\\|").replace("\n", " ")

    out = [
        "# ccl-tui report",
        "",
        f"Scope: {scope.describe()} - {counts['sessions_in_scope']} of {counts['sessions']} sessions, {total} issues.",
        "",
        "| # | impact | kind | title | sessions | last seen | id |",
        "|---:|---:|---|---|---:|---|---|",
    ]
    for i in issues:
        out.append(
            f"| {i.rank} | {i.impact.impact:.1f} | {i.kind} | {cell(i.title)} | {i.impact.sessions} |"
            f" {(i.last_seen or '')[:10]} | `{i.id}` |"
        )
    for i in issues[:10]:
        out += ["", f"## {i.rank}. {cell(i.title)} (`{i.id}`)", "", f"`{i.impact.formula()}`", ""]
        out += [f"- {cell(line)}" for line in i.impact.explain()[:4]]
        if agents_text(i.agents):
            out.append(f"- sessions by agent: {agents_text(i.agents)}")
        out += [f"- evidence: session `{e.session_id}` event #{e.seq}: {cell(e.detail)}" for e in i.evidence[:3]]
    return "\n".join(out)


def cmd_signals(args: argparse.Namespace) -> int:
    async def load(store: Store) -> list[Signal] | None:
        await refresh(store)
        sid = None
        if args.session_id:
            s = await store.session(args.session_id)
            if s is None:
                return None
            sid = s.id
        sigs = await store.signals(sid, kinds=[args.kind] if args.kind else None)
        if args.polarity:
            sigs = [s for s in sigs if s.polarity == args.polarity]
        return sigs

    sigs = run_with_store(args.db, load)
    if sigs is None:
        console(stderr=True).print(Text(f"No session matches {args.session_id!r}."))
        return 2
    if args.json:
        print_json([signal_json(s) for s in sigs])
        return 0
    con = console()
    t = Table(box=None, header_style="bold")
    for col in ("kind", "polarity", "session", "event", "call id", "sev", "signature"):
        t.add_column(col)
    for s in sigs:
        t.add_row(
            Text(s.kind),
            Text(s.polarity),
            Text(s.session_id[:13]),
            Text(f"#{s.seq}"),
            Text(s.call_id or ""),
            Text(f"{s.severity:.2f}"),
            Text(shown(s.signature)),
        )
    con.print(t)
    con.print(Text(f"{len(sigs)} signal(s)"))
    return 0
