"""``ccl-tui analyze``: embed issues, store vectors in Chroma, cluster, optionally ask GPT-4o. Used by CLI and TUI.

Steps (each optional part falls back instead of failing):

1. ``refresh`` the rule signals and ranking.
2. ``llm=True``: classify user messages no rule flagged (pushback / frustration / confusion / positive /
   neutral) and store them as signals with ``source='model'`` and a ``(model-derived)`` signature, then re-rank.
3. Embed each issue (signature + redacted representative evidence, the command line stripped), reusing
   vectors already in Chroma for unchanged texts; OpenAI falls back to the local embedder on any failure, and
   an unreachable Chroma falls back to in-memory vectors.
4. Cluster within kind families; stable cluster ids; write ``issues.cluster_id`` and the ``clusters`` table.
5. ``llm=True``: name and summarise clusters with more than one member (model-derived); otherwise the name is
   the title of the member with the highest impact.

All model requests of a run (classification, embeddings, naming) share one
:class:`~ccl_tui.semantic.llm.ProviderBreaker`: a provider that fails persistently (429, 5xx, connection
errors, timeouts) is given up on within seconds and a bounded number of requests, the rest of the run keeps the
rule results and the local embedder, and the summary says so (``provider_given_up``, ``fallbacks``).

Importing this module is cheap: numpy, sklearn, chromadb, openai and pydantic load inside the functions.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ccl_tui.scope import USER_ORIGINS
from ccl_tui.semantic.cluster import Cluster
from ccl_tui.store import semantic as ssql
from ccl_tui.text.cut import clip

if TYPE_CHECKING:
    import numpy as np

    from ccl_tui.config.settings import Settings
    from ccl_tui.model.issues import Issue
    from ccl_tui.model.signals import Signal
    from ccl_tui.semantic.embedders import Embedder
    from ccl_tui.semantic.llm import CostEstimate, LLMClient, MessageLabel
    from ccl_tui.store.db import Store

__all__ = ["AnalyzeSummary", "Cluster", "analyze", "clusters", "issue_text"]

#: progress(phase, done, total); phases: detect, classify, embed, cluster, name
Progress = Callable[[str, int, int], None]
#: confirm(estimate) -> proceed? Called once, before the first paid request, only when something costs money.
Confirm = Callable[["CostEstimate"], bool]

MODEL_TAG = "(model-derived)"
MIN_CONFIDENCE = 0.6
_CMD_PREFIX = re.compile(r"^`[^`]*`\s*(?:exited -?\d+:?|timed out)?\s*")
_USER_PREFIX = re.compile(r"^user:\s*")


@dataclass(slots=True)
class AnalyzeSummary:
    embedder: str = ""
    issues: int = 0
    embedded: int = 0  # vectors computed this run
    reused: int = 0  # vectors reused from Chroma (same text, same embedder)
    clusters: int = 0
    merged_clusters: int = 0  # clusters with more than one issue
    clustered_issues: int = 0  # issues that share a cluster with another issue
    vector_store: str = ""
    collection: str = ""
    llm: bool = False
    estimate_usd: float = 0.0
    max_cost: float = 0.0
    confirmed: bool = True
    messages_considered: int = 0
    messages_classified: int = 0
    model_signals: int = 0
    clusters_named: int = 0
    llm_calls: int = 0
    llm_cached: int = 0
    llm_failed: int = 0
    llm_skipped_budget: int = 0
    llm_skipped_breaker: int = 0  # calls not sent: the provider had been given up on
    provider_requests: int = 0  # HTTP requests sent to the model provider (chat + embeddings, retries included)
    provider_failed_requests: int = 0  # of which failed: 429, 5xx, connection error, timeout
    provider_given_up: str = ""  # why the provider was given up on ("" = it was not)
    cost_usd: float = 0.0
    fallbacks: list[str] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------------------------- texts
def issue_text(issue: Issue) -> str:
    """What is embedded for an issue: the failure (signature's right side and the representative evidence
    without the command line), then the program, all redacted."""
    from ccl_tui.semantic.embedders import content_words
    from ccl_tui.text.redact import redact

    program, _, what = issue.signature.partition(" | ")
    if not what:
        program, what = "", issue.signature
    ev = issue.representative or (issue.evidence[0] if issue.evidence else None)
    detail = ev.detail if ev else ""
    detail = _USER_PREFIX.sub("", _CMD_PREFIX.sub("", detail))[:600]
    # The program names the failure only when the failure text says little on its own ("timeout",
    # "exit 1"); otherwise two unrelated npm failures would look alike just for sharing "npm".
    if len(content_words(f"{what} {detail}")) >= 3:
        program = ""
    return redact(f"{what}\n{detail}\n{program}".strip())


def _tick(progress: Progress | None, phase: str, done: int, total: int) -> None:
    if progress is not None:
        with contextlib.suppress(Exception):  # a broken progress display must not break the analysis
            progress(phase, done, total)


# --------------------------------------------------------------------------------------------- analyze
async def analyze(
    store: Store,
    *,
    embedder: str = "auto",
    llm: bool = False,
    max_cost: float = 1.0,
    chroma_url: str | None = None,
    chroma_path: str | None = None,
    progress: Progress | None = None,
    confirm: Confirm | None = None,
    settings: Settings | None = None,
    llm_options: dict[str, Any] | None = None,
    embedder_options: dict[str, Any] | None = None,
) -> AnalyzeSummary:
    """Run the semantic layer over the store. Never raises for model, network or vector-store failures."""
    from ccl_tui.config.settings import load_settings
    from ccl_tui.pipeline import refresh
    from ccl_tui.semantic.embedders import choose
    from ccl_tui.semantic.llm import ProviderBreaker

    settings = settings or load_settings()
    summary = AnalyzeSummary(llm=llm, max_cost=max_cost)
    breaker = ProviderBreaker()  # one per run, for every model request (chat and embeddings)
    t0 = time.perf_counter()
    await refresh(store, settings, (lambda d, t: _tick(progress, "detect", d, t)) if progress else None)
    summary.seconds["detect"] = round(time.perf_counter() - t0, 3)

    try:
        emb = choose(embedder, **{"breaker": breaker, **(embedder_options or {})})
    except Exception as e:
        summary.fallbacks.append(f"embedder {embedder!r} unavailable ({e}): used local")
        emb = choose("local")

    client: LLMClient | None = None
    messages: list[ssql.UserMessage] = []
    classify_tasks: list[Any] = []
    if llm:
        from ccl_tui.semantic.llm import LLMClient

        client = LLMClient(store.db, max_cost=max_cost, **{"breaker": breaker, **(llm_options or {})})
        if not client.available:
            summary.fallbacks.append("--llm without OPENAI_API_KEY: only cached model results are used")
        messages = await ssql.unflagged_user_messages(store.db, USER_ORIGINS)
        classify_tasks = [client.classify_task(m.text, m.context, meta=m) for m in messages if m.text.strip()]
        summary.messages_considered = len(classify_tasks)

    # ---- cost estimate and confirmation, before anything is paid for
    issues_now = await store.issues()
    estimate = await _estimate(client, classify_tasks, emb, issues_now, max_cost)
    if estimate is not None:
        summary.estimate_usd = round(estimate.usd, 6)
        if estimate.usd > 0 and confirm is not None and not confirm(estimate):
            summary.confirmed = False
            summary.fallbacks.append("cost not confirmed: model calls skipped, local embedder used")
            client = None
            classify_tasks = []
            if _is_openai(emb):
                emb = choose("local")

    # ---- 2. classify user messages the rules did not flag
    if client is not None and classify_tasks:
        t = time.perf_counter()
        from ccl_tui.semantic.llm import LLMReport, MessageLabel

        report = LLMReport()
        results = await client.run(classify_tasks, report, lambda d, n: _tick(progress, "classify", d, n))
        labelled: dict[str, MessageLabel | None] = {}
        for task in classify_tasks:
            label = results.get(task.key)
            labelled[task.meta.session_id + f"#{task.meta.seq}"] = label if isinstance(label, MessageLabel) else None
        summary.messages_classified = sum(1 for v in labelled.values() if v is not None)
        summary.model_signals = await asyncio.to_thread(
            _write_model_signals, str(store.path), messages, labelled, settings
        )
        await refresh(store, settings)
        _merge_report(summary, report)
        summary.seconds["classify"] = round(time.perf_counter() - t, 3)

    # ---- 3. embed
    t = time.perf_counter()
    issues = await store.issues()
    summary.issues = len(issues)
    texts = [issue_text(i) for i in issues]
    vectors, emb = await _embed(issues, texts, emb, summary, chroma_url, chroma_path, client, progress)
    summary.embedder = f"{emb.name}-{emb.dim}"
    summary.seconds["embed"] = round(time.perf_counter() - t, 3)

    # ---- 4. cluster
    t = time.perf_counter()
    _tick(progress, "cluster", 0, 1)
    previous = await ssql.membership(store.db)
    groups, ids = await asyncio.to_thread(_cluster, issues, vectors, emb.cluster_threshold, previous)
    _tick(progress, "cluster", 1, 1)
    summary.seconds["cluster"] = round(time.perf_counter() - t, 3)

    # ---- 5. names
    t = time.perf_counter()
    rows = await _name_clusters(groups, ids, issues, texts, summary, client, progress)
    await ssql.replace_clusters(store.db, rows)
    summary.clusters = len(rows)
    summary.merged_clusters = sum(1 for r in rows if len(r.members) > 1)
    summary.clustered_issues = sum(len(r.members) for r in rows if len(r.members) > 1)
    summary.seconds["name"] = round(time.perf_counter() - t, 3)
    summary.seconds["total"] = round(time.perf_counter() - t0, 3)
    _report_breaker(summary, breaker)
    try:
        await ssql.record_run(store.db, summary.embedder, llm, summary.to_dict())
    except Exception as e:
        summary.fallbacks.append(f"run not recorded: {type(e).__name__}")
    return summary


def _is_openai(emb: Embedder) -> bool:
    return emb.name.startswith("openai")


async def _estimate(
    client: LLMClient | None, tasks: Sequence[Any], emb: Embedder, issues: Sequence[Issue], max_cost: float
) -> CostEstimate | None:
    """Cost of the run before it starts: classification calls not cached, at most one naming call per two
    issues (an upper bound: only clusters with 2+ members are named), and OpenAI embeddings."""
    from ccl_tui.semantic.llm import CostEstimate, estimate_call_cost

    est = CostEstimate(0, 0, 0.0, max_cost, client.model if client else "")
    if client is not None and not client.available:
        client = None  # nothing can be sent, so nothing can cost money
    if client is not None:
        est = await client.estimate(tasks)
        naming_calls = len(issues) // 2
        if naming_calls:
            per_call = estimate_call_cost(client.model, 700, 150)
            est.usd += naming_calls * per_call
            est.calls += naming_calls
    if _is_openai(emb):
        cost = getattr(emb, "estimate_cost", None)
        if cost is not None:
            est.usd += cost([issue_text(i) for i in issues])
    if client is None and not _is_openai(emb):
        return None
    est.usd = round(est.usd, 6)
    return est


def _merge_report(summary: AnalyzeSummary, report: Any) -> None:
    summary.llm_calls += report.called
    summary.llm_cached += report.cached
    summary.llm_failed += report.failed
    summary.llm_skipped_budget += report.skipped_budget
    summary.llm_skipped_breaker += report.skipped_breaker
    summary.cost_usd = max(summary.cost_usd, report.cost_usd)
    for reason, n in report.error_summary().items():
        summary.errors[reason] = summary.errors.get(reason, 0) + n


def _report_breaker(summary: AnalyzeSummary, breaker: Any) -> None:
    summary.provider_requests = breaker.requests
    summary.provider_failed_requests = breaker.failed_requests
    summary.provider_given_up = breaker.reason
    if breaker.is_open:
        skipped = f"{summary.llm_skipped_breaker} model call(s) not sent, " if summary.llm_skipped_breaker else ""
        summary.fallbacks.append(f"{breaker.describe()}; {skipped}rule results kept")


# --------------------------------------------------------------------------------------------- embedding
async def _embed(
    issues: Sequence[Issue],
    texts: list[str],
    emb: Embedder,
    summary: AnalyzeSummary,
    chroma_url: str | None,
    chroma_path: str | None,
    client: LLMClient | None,
    progress: Progress | None,
) -> tuple[np.ndarray, Embedder]:
    from ccl_tui.semantic.embedders import EmbedderError, choose, collection_name

    _tick(progress, "embed", 0, len(issues))
    vs = None
    try:
        from ccl_tui.semantic.vectors import VectorStore

        vs = await asyncio.to_thread(VectorStore, chroma_path, chroma_url)
        summary.vector_store = chroma_url or str(vs.path or "")
        if not summary.vector_store:
            from ccl_tui.locations import chroma_dir

            summary.vector_store = str(chroma_dir())
    except Exception as e:
        summary.fallbacks.append(f"Chroma unavailable ({type(e).__name__}: {str(e)[:120]}): vectors not stored")
    try:
        while True:
            try:
                vectors, reused = await asyncio.to_thread(_embed_sync, vs, emb, issues, texts, summary)
                break
            except EmbedderError as e:
                if not _is_openai(emb):
                    raise
                summary.fallbacks.append(f"{emb.name} failed ({str(e)[:160]}): used the local embedder")
                emb = choose("local")
        summary.reused = reused
        summary.embedded = len(issues) - reused
        summary.collection = collection_name(emb)
        if _is_openai(emb) and client is not None:
            client.charge(getattr(emb, "tokens_used", 0) / 1_000_000 * 0.02)
    finally:
        if vs is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(vs.close)
    _tick(progress, "embed", len(issues), len(issues))
    return vectors, emb


def _embed_sync(
    vs: Any, emb: Embedder, issues: Sequence[Issue], texts: list[str], summary: AnalyzeSummary
) -> tuple[np.ndarray, int]:
    import numpy as np

    from ccl_tui.semantic.embedders import text_hash

    hashes = [text_hash(t) for t in texts]
    ids = [i.id for i in issues]
    stored: dict[str, Any] = {}
    if vs is not None:
        try:
            stored = vs.get(emb, ids)
        except Exception as e:
            summary.fallbacks.append(f"Chroma read failed ({type(e).__name__}): re-embedding everything")
            stored = {}
    out = np.zeros((len(issues), emb.dim), dtype=np.float32)
    todo: list[int] = []
    for n, (iid, h) in enumerate(zip(ids, hashes, strict=True)):
        s = stored.get(iid)
        if s is not None and s.metadata.get("text_hash") == h and len(s.embedding) == emb.dim:
            out[n] = s.embedding
        else:
            todo.append(n)
    if todo:
        fresh = emb.embed([texts[n] for n in todo])
        for row, n in enumerate(todo):
            out[n] = fresh[row]
    if vs is not None and issues:
        try:
            metas = [
                {"issue_id": i.id, "signature": i.signature, "kind": i.kind, "text_hash": h}
                for i, h in zip(issues, hashes, strict=True)
            ]
            if todo:
                vs.upsert(emb, [ids[n] for n in todo], out[todo], [texts[n] for n in todo], [metas[n] for n in todo])
            vs.delete_missing(emb, ids)
        except Exception as e:
            summary.fallbacks.append(f"Chroma write failed ({type(e).__name__}: {str(e)[:120]})")
    return out, len(issues) - len(todo)


# --------------------------------------------------------------------------------------------- clustering
def _cluster(
    issues: Sequence[Issue], vectors: np.ndarray, threshold: float, previous: dict[str, str]
) -> tuple[list[list[int]], list[str]]:
    from ccl_tui.semantic.cluster import group_by_family, stable_ids

    if not issues:
        return [], []
    groups = group_by_family([i.kind for i in issues], vectors, threshold)
    # members ordered by impact (highest first), then id
    groups = [sorted(g, key=lambda n: (-issues[n].impact.impact, issues[n].id)) for g in groups]
    ids = stable_ids([[(issues[n].id, issues[n].signature) for n in g] for g in groups], previous)
    return groups, ids


async def _name_clusters(
    groups: list[list[int]],
    ids: list[str],
    issues: Sequence[Issue],
    texts: list[str],
    summary: AnalyzeSummary,
    client: LLMClient | None,
    progress: Progress | None,
) -> list[ssql.ClusterRow]:
    rows = []
    for g, cid in zip(groups, ids, strict=True):
        top = issues[g[0]]
        titles = [issues[n].title for n in g]
        rest = f" (+{len(g) - 1} similar)" if len(g) > 1 else ""
        rows.append(
            ssql.ClusterRow(
                id=cid,
                embedder=summary.embedder,
                name=top.title + rest,
                summary="; ".join(titles[:5]) + (" ..." if len(titles) > 5 else ""),
                model_derived=False,
                members=[issues[n].id for n in g],
                signatures=[issues[n].signature for n in g],
            )
        )
    if client is None:
        return rows
    from ccl_tui.semantic.llm import ClusterName, LLMReport

    tasks = []
    for g, row in zip(groups, rows, strict=True):
        if len(g) > 1:
            examples = [texts[n] for n in g]
            tasks.append(client.cluster_task([issues[n].title for n in g], examples, meta=row))
    if not tasks:
        return rows
    report = LLMReport()
    results = await client.run(tasks, report, lambda d, n: _tick(progress, "name", d, n))
    for task in tasks:
        named = results.get(task.key)
        if isinstance(named, ClusterName):
            row = task.meta
            row.name = _clean(named.name, 80) or row.name
            row.summary = _clean(named.summary, 400)
            row.model_derived = True
            summary.clusters_named += 1
    _merge_report(summary, report)
    return rows


def _clean(s: str, width: int) -> str:
    return clip(" ".join(s.split()), width)


# --------------------------------------------------------------------------------------------- model signals
def model_signal_for(m: ssql.UserMessage, label: MessageLabel) -> Signal | None:
    """The signal a model label becomes (None for neutral or low confidence)."""
    from ccl_tui.model.signals import Signal, SignalKind
    from ccl_tui.transcript import first_line

    if label.label == "neutral" or label.confidence < MIN_CONFIDENCE:
        return None
    why = _clean(label.rationale, 160)
    note = f" [model-derived {label.label}, confidence {label.confidence:.2f}: {why}]"
    if label.label == "positive":
        kind, signature, severity = SignalKind.POSITIVE_FEEDBACK, f"delight | positive feedback {MODEL_TAG}", 0.7
    else:
        kind, signature = SignalKind.USER_PUSHBACK, f"pushback | {label.label} {MODEL_TAG}"
        severity = round(0.4 + 0.3 * label.confidence, 2)
    return Signal(
        kind=str(kind),
        session_id=m.session_id,
        evidence=[m.seq],
        turn=m.turn,
        severity=severity,
        signature=signature,
        detail=f"user: {first_line(m.text, 160)}{note}",
        timestamp=m.timestamp,
        source="model",
    )


def _write_model_signals(
    db_path: str, messages: Sequence[ssql.UserMessage], labelled: dict[str, MessageLabel | None], settings: Settings
) -> int:
    """Replace model-derived signals per session (sync, in a thread). Keeps earlier model signals for
    messages that could not be classified this time; drops those on messages rules now flag."""
    from ccl_tui.signals.detect import cost_of
    from ccl_tui.signals.session_view import SessionView
    from ccl_tui.store import signals as sigsql
    from ccl_tui.store.writer import connect

    by_session: dict[str, list[ssql.UserMessage]] = {}
    for m in messages:
        by_session.setdefault(m.session_id, []).append(m)
    con = connect(db_path)
    written = 0
    try:
        existing = sigsql.signals_by_session(con, "model")
        origins = sigsql.session_origins(con)
        detected: list[tuple[str, list[Signal], int]] = []
        for sid in sorted(set(by_session) | set(existing)):
            msgs = {m.seq: m for m in by_session.get(sid, [])}
            failed = {seq for seq, m in msgs.items() if labelled.get(f"{sid}#{seq}") is None}
            keep = [s for s in existing.get(sid, []) if s.seq in failed]
            fresh: list[Signal] = []
            for seq, m in msgs.items():
                label = labelled.get(f"{sid}#{seq}")
                sig = model_signal_for(m, label) if label is not None else None
                if sig is not None:
                    fresh.append(sig)
            if fresh:
                view = SessionView(sid, sigsql.session_events(con, sid), origins.get(sid))
                for s in fresh:
                    if s.kind != "positive_feedback":
                        s.cost = cost_of(view, s)
            detected.append((sid, sorted(keep + fresh, key=lambda s: (s.seq, s.kind)), 0))
            written += len(fresh)
        sigsql.save_detections(con, detected, "", source="model")
    finally:
        con.close()
    return written


# --------------------------------------------------------------------------------------------- reading
async def clusters(store: Store, settings: Settings | None = None) -> list[Cluster]:
    """Clusters of the current ranking with their member issues, ranked by cluster impact.

    Issues ranked since the last ``analyze`` that have no cluster yet appear as singleton clusters.
    """
    from ccl_tui.config.settings import load_settings
    from ccl_tui.scope import Scope
    from ccl_tui.semantic.cluster import cluster_impacts, fresh_id, rank_clusters

    settings = settings or load_settings()
    issues = await store.issues()
    by_id = {i.id: i for i in issues}
    rows = await ssql.load_clusters(store.db)
    membership: dict[str, list[Issue]] = {}
    meta: dict[str, ssql.ClusterRow | None] = {}
    placed: set[str] = set()
    for r in rows:
        members = [by_id[m] for m in r.members if m in by_id and m not in placed]
        if members:
            membership[r.id] = sorted(members, key=lambda i: (-i.impact.impact, i.id))
            meta[r.id] = r
            placed.update(i.id for i in members)
    for i in issues:
        if i.id not in placed:
            cid = fresh_id([i.signature])
            membership[cid] = [i]
            meta[cid] = None
    if not membership:
        return []
    scope = Scope()
    infos = {sid: info for sid, info in (await store.session_infos()).items() if scope.admits(info)}
    signals = [s for s in await store.signals() if s.session_id in infos]
    impacts = await asyncio.to_thread(cluster_impacts, membership, signals, infos, settings.impact)
    out = []
    for cid, members in membership.items():
        row = meta[cid]
        name = row.name if row else members[0].title
        out.append(
            Cluster(
                id=cid,
                name=name,
                members=members,
                impact=impacts[cid],
                summary=row.summary if row else "",
                model_derived=bool(row and row.model_derived),
                embedder=row.embedder if row else "",
                signatures=[m.signature for m in members],
            )
        )
    return rank_clusters(out)


def cluster_json(c: Cluster, members: int | None = None) -> dict[str, Any]:
    ms = c.members if members is None else c.members[:members]
    members_json = [
        {
            "id": i.id,
            "rank": i.rank,
            "title": i.title,
            "signature": i.signature,
            "kind": i.kind,
            "impact": i.impact.impact,
            "sessions": i.impact.sessions,
        }
        for i in ms
    ]
    return {
        "rank": c.rank,
        "id": c.id,
        "name": c.name,
        "summary": c.summary,
        "model_derived": c.model_derived,
        "embedder": c.embedder,
        "impact": {**asdict(c.impact), "formula": c.impact.formula()},
        "size": len(c.members),
        "members": members_json,
    }
