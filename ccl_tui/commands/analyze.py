"""``ccl-tui analyze`` (embeddings, clusters, optional GPT-4o) and ``ccl-tui clusters``.

Wire into the CLI with ``register(sub, common)``. Everything printed is plain ``Text``: names, titles and
summaries come from transcripts or a model, never from markup.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ccl_tui.commands import lazy
from ccl_tui.semantic import provider

# Only the standard library at import time: the CLI imports this module to build its parser, and
# ``import ccl_tui.cli`` must not load rich (tests/test_import_hygiene.py).

DEFAULT_MAX_COST = 1.00


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``analyze`` and ``clusters`` subcommands to ``sub`` (an argparse subparsers object)."""
    s = sub.add_parser(
        "analyze",
        parents=[common],
        help="semantic layer: embed and cluster issues; --llm classifies messages with GPT-4o",
    )
    s.add_argument(
        "--llm",
        action="store_true",
        help="also ask GPT-4o (needs OPENAI_API_KEY): classify user messages rules missed, name clusters",
    )
    s.add_argument(
        "--embedder",
        choices=["openai", "local"],
        default=None,
        help="openai (text-embedding-3-small) or local (offline hashing); default: openai when "
        "OPENAI_API_KEY is set, else local",
    )
    s.add_argument(
        "--max-cost",
        type=float,
        default=DEFAULT_MAX_COST,
        metavar="USD",
        help=f"stop before spending more than this on OpenAI calls (default {DEFAULT_MAX_COST:.2f})",
    )
    s.add_argument(
        "--chroma-url",
        metavar="URL",
        help="a shared Chroma server (http://host:port) instead of the local store in the user data dir",
    )
    s.add_argument("--yes", "-y", action="store_true", help="do not ask to confirm the estimated cost")
    s.add_argument("--json", action="store_true", help="print the summary as JSON (no progress display)")
    s.set_defaults(func=lazy("ccl_tui.commands.analyze", "cmd_analyze"))

    s = sub.add_parser("clusters", parents=[common], help="issue clusters (from analyze) with their member issues")
    s.add_argument("--json", action="store_true")
    s.add_argument("--top", type=int, default=20, help="how many clusters (0 = all; default 20)")
    s.add_argument("--all", action="store_true", help="include single-issue clusters")
    s.set_defaults(func=lazy("ccl_tui.commands.analyze", "cmd_clusters"))


def cmd_analyze(args: argparse.Namespace) -> int:
    from rich.text import Text

    from ccl_tui.commands.common import console, print_json, run_with_store
    from ccl_tui.semantic.analyze import analyze

    embedder = args.embedder or ("openai" if provider.has_api_key() else "local")
    err = console(stderr=True)
    interactive = sys.stdin.isatty() and sys.stderr.isatty() and not args.json

    def confirm(est: Any) -> bool:
        err.print(Text(f"Estimated cost: {est.describe()}"))
        if args.yes:
            return True
        if interactive:
            live = progress_cm if hasattr(progress_cm, "stop") else None
            if live is not None:
                live.stop()  # the progress display would overwrite the prompt
            try:
                answer = input("Proceed? [y/N] ").strip().lower()
            except EOFError:
                answer = ""
            finally:
                if live is not None:
                    live.start()
            return answer in ("y", "yes")
        if est.within_budget:
            return True
        err.print(
            Text(
                f"Estimate exceeds --max-cost ${args.max_cost:.2f}: skipping model calls "
                "(raise --max-cost or pass --yes)."
            )
        )
        return False

    progress_cm, progress_fn = _progress(args.json)

    async def run(store: Any) -> Any:
        return await analyze(
            store,
            embedder=embedder,
            llm=args.llm,
            max_cost=args.max_cost,
            chroma_url=args.chroma_url,
            progress=progress_fn,
            confirm=confirm,
        )

    with progress_cm:
        summary = run_with_store(args.db, run)
    if args.json:
        print_json(summary.to_dict())
        return 0
    _print_summary(summary)
    return 0


def _progress(quiet: bool) -> tuple[Any, Any]:
    import contextlib

    from ccl_tui.commands.common import console

    if quiet or not sys.stderr.isatty():
        return contextlib.nullcontext(), None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    prog = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def update(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = prog.add_task(phase, total=max(total, 1))
        prog.update(tasks[phase], completed=done, total=max(total, 1))

    return prog, update


def _print_summary(s: Any) -> None:
    from rich.text import Text

    from ccl_tui.commands.common import console

    con = console()
    con.print(
        Text(
            f"Embedder: {s.embedder}   vectors: {s.embedded} new, {s.reused} reused"
            f"   store: {s.vector_store or 'in memory'}"
        )
    )
    con.print(
        Text(
            f"{s.issues} issues -> {s.clusters} clusters; {s.merged_clusters} clusters merge"
            f" {s.clustered_issues} issues"
        )
    )
    if s.llm:
        con.print(
            Text(
                f"Model-derived: {s.messages_classified} of {s.messages_considered} unflagged user messages classified,"
                f" {s.model_signals} signals; {s.clusters_named} clusters named. Calls: {s.llm_calls} made,"
                f" {s.llm_cached} cached, {s.llm_failed} failed, {s.llm_skipped_budget} over budget"
                + (f", {s.llm_skipped_breaker} not sent (provider given up on)" if s.llm_skipped_breaker else "")
                + f". Cost ${s.cost_usd:.4f} (estimated ${s.estimate_usd:.4f}, max ${s.max_cost:.2f})."
            )
        )
    if s.provider_requests:
        con.print(
            Text(
                f"Model provider: {s.provider_requests} HTTP request(s), {s.provider_failed_requests} failed"
                " (429, 5xx, connection, timeout)"
            )
        )
    for f in s.fallbacks:
        con.print(Text(f"fallback: {f}"))
    for reason, n in s.errors.items():
        con.print(Text(f"model call failures: {n}x {reason} (rule results kept)"))
    con.print(Text("See the clusters: ccl-tui clusters"))


def cmd_clusters(args: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text

    from ccl_tui.commands.common import console, print_json, run_with_store
    from ccl_tui.semantic.analyze import cluster_json, clusters

    found = run_with_store(args.db, clusters)
    shown = found if args.all else [c for c in found if len(c.members) > 1]
    top = shown[: args.top] if args.top else shown
    if args.json:
        print_json({"total_clusters": len(found), "shown": len(top), "clusters": [cluster_json(c) for c in top]})
        return 0
    con = console()
    if not found:
        con.print(Text("No clusters yet. Run: ccl-tui analyze"))
        return 0
    if not top:
        con.print(Text(f"{len(found)} clusters, none with more than one issue (see --all)."))
        return 0
    t = Table(box=None, header_style="bold")
    for col, justify in (
        ("#", "right"),
        ("impact", "right"),
        ("cluster", "left"),
        ("issues", "right"),
        ("sessions", "right"),
        ("id", "left"),
    ):
        t.add_column(col, justify="right" if justify == "right" else "left")
    for c in top:
        mark = " (model-derived name)" if c.model_derived else ""
        t.add_row(
            Text(str(c.rank)),
            Text(f"{c.impact.impact:.1f}"),
            Text(c.name + mark),
            Text(str(len(c.members))),
            Text(str(c.impact.sessions)),
            Text(c.id),
        )
    con.print(t)
    for c in top:
        con.print(Text(f"\n#{c.rank} {c.name}  [{c.id}]", style="bold"))
        if c.summary:
            label = "summary (model-derived)" if c.model_derived else "members"
            con.print(Text(f"  {label}: {c.summary}"))
        con.print(Text(f"  {c.impact.formula()}"))
        for m in c.members:
            con.print(
                Text(f"  - #{m.rank} {m.title}  impact {m.impact.impact:.1f}, {m.impact.sessions} sessions  [{m.id}]")
            )
    merged = sum(1 for c in found if len(c.members) > 1)
    listed = f"{len(top)} shown, " if len(top) != len(shown) else ""
    con.print(Text(f"\n{listed}{merged} cluster(s) with more than one issue, {len(found)} in all"))
    return 0
