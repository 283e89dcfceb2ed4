"""ChromaDB as the vector store: persistence across processes with no network, one collection per embedder."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from ccl_tui.semantic.embedders import HashingEmbedder, collection_name
from ccl_tui.semantic.vectors import VectorStore

DOCS = {
    "I-requests": "pytest | ModuleNotFoundError: requests",
    "I-eaddr": "Error: listen EADDRINUSE: address already in use :::3000",
    "I-docker": "zsh: command not found: docker",
    "I-enospc": "OSError: [Errno 28] No space left on device",
}


class TinyEmbedder:
    """A second embedder with another dimension (stands in for OpenAI's 1536-d vectors)."""

    name = "tiny-v1"
    dim = 8
    cluster_threshold = 0.5

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i, len(t) % self.dim] = 1.0
        return out


def _write(path: Path) -> None:
    h, tiny = HashingEmbedder(), TinyEmbedder()
    ids, texts = list(DOCS), list(DOCS.values())
    metas = [{"signature": t, "text_hash": str(i)} for i, t in enumerate(texts)]
    with VectorStore(path) as vs:
        vs.upsert(h, ids, h.embed(texts), texts, metas)
        vs.upsert(tiny, ids[:2], tiny.embed(texts[:2]), texts[:2], metas[:2])
        assert vs.count(h) == 4 and vs.count(tiny) == 2


# Runs in a fresh interpreter: every outbound socket connection and DNS lookup raises.
OFFLINE_READER = textwrap.dedent("""
    import json, socket, sys
    def _blocked(*a, **k):
        raise OSError("network disabled in this test")
    _connect = socket.socket.connect
    def _connect_local(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise OSError("network disabled in this test")
        return _connect(self, address)
    socket.socket.connect = _connect_local
    socket.create_connection = _blocked
    socket.getaddrinfo = _blocked
    from ccl_tui.semantic.embedders import HashingEmbedder
    from ccl_tui.semantic.vectors import VectorStore
    h = HashingEmbedder()
    q = h.embed(["ImportError: No module named requests", "bind: address already in use"])
    with VectorStore(sys.argv[1]) as vs:
        hits = vs.query(h, q, n_results=2)
        got = vs.get(h, ["I-docker"])
        out = {"collections": vs.collection_names(), "hits": hits, "count": vs.count(h),
               "doc": got["I-docker"].document, "dim": len(got["I-docker"].embedding),
               "meta": got["I-docker"].metadata}
    print(json.dumps(out))
""")


def test_vectors_persist_and_are_queried_in_a_new_offline_process(tmp_path: Path) -> None:
    path = tmp_path / "chroma"
    _write(path)
    res = subprocess.run(
        [sys.executable, "-c", OFFLINE_READER, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NO_PROXY": "*", "HF_HUB_OFFLINE": "1"},
    )
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["collections"] == sorted(["issues__hashing-v2-1024", "issues__tiny-v1-8"])
    assert out["count"] == 4
    assert out["hits"][0][0][0] == "I-requests" and out["hits"][1][0][0] == "I-eaddr"
    assert out["hits"][0][0][1] < out["hits"][0][1][1]  # cosine distances, nearest first
    assert out["doc"] == DOCS["I-docker"] and out["dim"] == 1024
    assert out["meta"]["signature"] == DOCS["I-docker"]


def test_embedder_switch_keeps_collections_apart(tmp_path: Path) -> None:
    path = tmp_path / "chroma"
    _write(path)
    h, tiny = HashingEmbedder(), TinyEmbedder()
    assert collection_name(h) != collection_name(tiny)
    with VectorStore(path) as vs:
        assert vs.count(h) == 4 and vs.count(tiny) == 2
        assert sorted(vs.get(tiny, list(DOCS))) == ["I-eaddr", "I-requests"]
        assert {len(v.embedding) for v in vs.get(tiny, list(DOCS)).values()} == {8}
        assert {len(v.embedding) for v in vs.get(h, list(DOCS)).values()} == {1024}
        # a hashing-v3 (another version of the features) would get a fresh collection too
        h3 = HashingEmbedder()
        h3.name = "hashing-v3"
        assert vs.count(h3) == 0
        assert vs.delete_missing(h, ["I-requests"]) == 3 and vs.count(h) == 1 and vs.count(tiny) == 2


def test_wrong_dimension_is_refused(tmp_path: Path) -> None:
    import pytest

    from ccl_tui.semantic.vectors import VectorStoreError

    with VectorStore(tmp_path / "c") as vs, pytest.raises(VectorStoreError):
        vs.upsert(TinyEmbedder(), ["a"], [[0.0] * 5], ["x"], [{"k": "v"}])


def test_semantic_modules_import_without_chromadb_openai_or_sklearn() -> None:
    code = (
        "import sys, ccl_tui.semantic.analyze, ccl_tui.semantic.vectors, ccl_tui.semantic.embedders,"
        " ccl_tui.semantic.cluster, ccl_tui.commands.analyze\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'chromadb', 'openai', 'sklearn', 'numpy',"
        " 'textual', 'rich', 'pydantic'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
