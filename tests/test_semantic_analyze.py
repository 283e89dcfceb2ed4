"""``analyze`` with the offline embedder: cluster ids in the store, stable across runs, and the CLI commands."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import pytest

from ccl_tui.commands.analyze import register
from ccl_tui.pipeline import refresh
from ccl_tui.semantic.analyze import analyze, clusters, issue_text
from ccl_tui.store.db import Store
from ccl_tui.store.ingest import ingest
from tests.builders import Rollout

FAILURES = [
    ("pytest -q", "E   ModuleNotFoundError: No module named 'requests'"),
    ("python -m app.sync", "ModuleNotFoundError: No module named 'requests'"),
    ("pytest -q tests/test_x.py", "E   ModuleNotFoundError: No module named 'requests'"),
    ("npm run dev", "Error: listen EADDRINUSE: address already in use :::3000"),
    ("node server.js", "Error: listen EADDRINUSE: address already in use :::3000"),
    ("cargo build", "error[E0502]: cannot borrow `frames` as mutable because it is also borrowed as immutable"),
]


def corpus(root: Path, failures: list[tuple[str, str]] = FAILURES, first_day: int = 1) -> None:
    for i, (cmd, err) in enumerate(failures, first_day - 1):
        for j in range(2):
            r = Rollout(start=f"2026-10-{i + 1:02d}T{9 + j:02d}:00:00", cwd=f"/home/dev/src/repo{i}")
            r.user("make the tests pass")
            r.exec(cmd, err, 1)
            r.assistant("Still failing.")
            r.complete()
            r.write(root)


async def test_analyze_clusters_and_writes_cluster_ids(store: Store, tmp_path: Path) -> None:
    corpus(tmp_path / "home")
    await ingest(store, [tmp_path / "home"])
    phases: list[str] = []
    s = await analyze(
        store, embedder="local", chroma_path=str(tmp_path / "chroma"), progress=lambda p, d, n: phases.append(p)
    )
    assert s.embedder == "hashing-v2-1024" and s.collection == "issues__hashing-v2-1024"
    assert s.issues >= 5 and s.embedded == s.issues and s.reused == 0 and s.fallbacks == []
    assert {"detect", "embed", "cluster"} <= set(phases)
    issues = await store.issues()
    assert all(i.cluster_id for i in issues)
    by_cluster: dict[str, set[str]] = {}
    for i in issues:
        by_cluster.setdefault(i.cluster_id or "", set()).add(i.signature.split(" | ")[0])
    cs = await clusters(store)
    assert len(cs) == s.clusters and [c.rank for c in cs] == list(range(1, len(cs) + 1))
    merged = [c for c in cs if len(c.members) > 1]
    # requests failures of pytest and app.sync are one problem, and so are the two EADDRINUSE servers
    sets = [{m.signature for m in c.members} for c in merged]
    assert any(all("requests" in x for x in g) and len(g) >= 2 for g in sets), sets
    assert any(all("EADDRINUSE" in x for x in g) and len(g) >= 2 for g in sets), sets
    assert not any(any("requests" in x for x in g) and any("EADDRINUSE" in x for x in g) for g in sets)
    for c in merged:
        assert c.impact.sessions <= sum(m.impact.sessions for m in c.members)
        assert not c.model_derived
    assert cs == sorted(cs, key=lambda c: -c.impact.impact)

    # rerun: same ids, vectors come from Chroma
    again = await analyze(store, embedder="local", chroma_path=str(tmp_path / "chroma"))
    assert again.reused == again.issues and again.embedded == 0
    assert [(c.id, [m.id for m in c.members]) for c in await clusters(store)] == [
        (c.id, [m.id for m in c.members]) for c in cs
    ]
    # refresh rebuilds the issues table; the clusters survive and are still readable
    await refresh(store)
    assert [c.id for c in await clusters(store)] == [c.id for c in cs]


async def test_cluster_ids_survive_a_new_member(store: Store, tmp_path: Path) -> None:
    corpus(tmp_path / "home")
    await ingest(store, [tmp_path / "home"])
    await analyze(store, embedder="local", chroma_path=str(tmp_path / "chroma"))
    before = {m.signature: c.id for c in await clusters(store) for m in c.members}
    corpus(tmp_path / "home2", [("make test", "ModuleNotFoundError: No module named 'requests'")], 20)
    await ingest(store, [tmp_path / "home2"])
    await analyze(store, embedder="local", chroma_path=str(tmp_path / "chroma"))
    after = {m.signature: c.id for c in await clusters(store) for m in c.members}
    assert all(after[sig] == cid for sig, cid in before.items())
    new = [sig for sig in after if sig not in before]
    assert new and after[new[0]] == before["pytest | ModuleNotFoundError: requests"]


async def test_unreachable_chroma_server_falls_back(store: Store, tmp_path: Path) -> None:
    corpus(tmp_path / "home")
    await ingest(store, [tmp_path / "home"])
    s = await analyze(store, embedder="local", chroma_url="http://127.0.0.1:9")
    assert s.clusters > 0 and s.fallbacks and "Chroma" in s.fallbacks[0]


async def test_issue_text_is_redacted_and_drops_the_command_line(store: Store, tmp_path: Path) -> None:
    key = "sk-proj-" + "Q7vX2mN9pL4kR8sT1wY6zB3cD5fG0hJaE4iU7oP2qW9xK1nM5"
    corpus(tmp_path / "home", [(f"OPENAI_API_KEY={key} pytest -q", f"ModuleNotFoundError: {key}")])
    await ingest(store, [tmp_path / "home"])
    await refresh(store)
    texts = [issue_text(i) for i in await store.issues()]
    assert texts and not any(key in t for t in texts)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db")
    p = argparse.ArgumentParser(prog="ccl-tui")
    sub = p.add_subparsers(dest="command")
    register(sub, common)
    return p


def _ingested(tmp_path: Path) -> str:
    corpus(tmp_path / "home")
    db = str(tmp_path / "c.sqlite")

    async def load() -> None:
        s = await Store.open(db)
        try:
            await ingest(s, [tmp_path / "home"])
        finally:
            await s.close()

    asyncio.run(load())
    return db


def test_cli_analyze_and_clusters_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = _ingested(tmp_path)
    p = _parser()
    args = p.parse_args(["analyze", "--db", db, "--json", "--embedder", "local"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["embedder"] == "hashing-v2-1024" and out["clusters"] >= 3 and out["merged_clusters"] >= 2
    args = p.parse_args(["clusters", "--db", db, "--json"])
    assert args.func(args) == 0
    cl = json.loads(capsys.readouterr().out)
    assert cl["shown"] == out["merged_clusters"] and cl["total_clusters"] == out["clusters"]
    first = cl["clusters"][0]
    assert set(first) >= {"id", "name", "summary", "model_derived", "impact", "members", "size"}
    assert first["size"] == len(first["members"]) >= 2 and first["id"].startswith("C-")
    args = p.parse_args(["clusters", "--db", db])
    assert args.func(args) == 0
    text = capsys.readouterr().out
    assert first["id"] in text and first["members"][0]["id"] in text


def test_cli_llm_over_budget_without_tty_skips_model_calls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens: must not be called
    db = _ingested(tmp_path)
    p = _parser()
    args = p.parse_args(["analyze", "--db", db, "--json", "--llm", "--embedder", "local", "--max-cost", "0"])
    assert args.func(args) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["confirmed"] is False and out["llm_calls"] == 0 and out["llm_failed"] == 0
    assert "Estimated cost" in captured.err and "exceeds --max-cost" in captured.err
    assert out["estimate_usd"] > 0 and out["clusters"] > 0  # the local part still ran
