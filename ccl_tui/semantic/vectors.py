"""ChromaDB as a plain vector store: explicit embeddings only, one collection per embedder and dimension.

* ``chromadb`` is imported lazily (it takes ~1 s), only when a :class:`VectorStore` is opened.
* Telemetry is off (``Settings(anonymized_telemetry=False)``).
* ``embedding_function=None`` on every create/get, and never ``add(documents=...)`` without embeddings or
  ``query(query_texts=...)``: Chroma's default embedding function would try to download a model.
* Local: ``PersistentClient`` under the user data dir (:func:`ccl_tui.locations.chroma_dir`). Team:
  ``--chroma-url http(s)://host:port`` uses an ``HttpClient`` against a shared Chroma server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from ccl_tui.semantic.embedders import Embedder, collection_name

if TYPE_CHECKING:
    import numpy as np


class VectorStoreError(RuntimeError):
    pass


@dataclass(slots=True)
class StoredVector:
    id: str
    embedding: list[float]
    metadata: dict[str, Any]
    document: str | None


def _settings() -> Any:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


def open_client(path: Path | str | None = None, url: str | None = None) -> Any:
    """A Chroma client: ``HttpClient`` for ``url``, else a ``PersistentClient`` at ``path`` (default: user dir)."""
    import chromadb

    if url:
        u = urlparse(url if "://" in url else f"http://{url}")
        if u.scheme not in ("http", "https") or not u.hostname:
            raise VectorStoreError(f"--chroma-url must look like http://host:port, got {url!r}")
        port = u.port or (443 if u.scheme == "https" else 8000)
        return chromadb.HttpClient(host=u.hostname, port=port, ssl=u.scheme == "https", settings=_settings())
    if path is None:
        from ccl_tui.locations import chroma_dir

        path = chroma_dir()
    Path(path).mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=_settings())


class VectorStore:
    """Issue vectors in Chroma. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: Path | str | None = None, url: str | None = None, *, prefix: str = "issues") -> None:
        self.url = url
        self.path = path
        self.prefix = prefix
        self.client = open_client(path, url)
        self._collections: dict[str, Any] = {}

    def __enter__(self) -> VectorStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        close = getattr(self.client, "close", None)
        if close is not None:
            close()
        self._collections.clear()

    def collection(self, embedder: Embedder) -> Any:
        name = collection_name(embedder, self.prefix)
        col = self._collections.get(name)
        if col is None:
            col = self.client.get_or_create_collection(
                name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedder": embedder.name, "dim": embedder.dim},
            )
            self._collections[name] = col
        return col

    def collection_names(self) -> list[str]:
        return sorted(c if isinstance(c, str) else c.name for c in self.client.list_collections())

    def upsert(
        self,
        embedder: Embedder,
        ids: Sequence[str],
        vectors: np.ndarray | Sequence[Sequence[float]],
        documents: Sequence[str],
        metadatas: Sequence[dict[str, Any]],
    ) -> None:
        if not ids:
            return
        rows = [list(map(float, v)) for v in vectors]
        if any(len(v) != embedder.dim for v in rows):
            raise VectorStoreError(f"vector dimension does not match {embedder.name} ({embedder.dim})")
        col = self.collection(embedder)
        step = 1000
        for i in range(0, len(ids), step):
            col.upsert(
                ids=list(ids[i : i + step]),
                embeddings=rows[i : i + step],
                documents=list(documents[i : i + step]),
                metadatas=list(metadatas[i : i + step]),
            )

    def get(self, embedder: Embedder, ids: Sequence[str]) -> dict[str, StoredVector]:
        if not ids:
            return {}
        got = self.collection(embedder).get(ids=list(ids), include=["embeddings", "metadatas", "documents"])
        out: dict[str, StoredVector] = {}
        embs = got.get("embeddings")
        metas = got.get("metadatas") or [None] * len(got["ids"])
        docs = got.get("documents") or [None] * len(got["ids"])
        for i, vid in enumerate(got["ids"]):
            emb = [] if embs is None else [float(x) for x in embs[i]]
            out[vid] = StoredVector(vid, emb, dict(metas[i] or {}), docs[i])
        return out

    def delete_missing(self, embedder: Embedder, keep: Sequence[str]) -> int:
        """Drop vectors of issues that no longer exist. Returns how many were removed."""
        col = self.collection(embedder)
        existing = col.get(include=[])["ids"]
        gone = sorted(set(existing) - set(keep))
        if gone:
            col.delete(ids=gone)
        return len(gone)

    def query(
        self, embedder: Embedder, vectors: np.ndarray | Sequence[Sequence[float]], n_results: int = 5
    ) -> list[list[tuple[str, float]]]:
        """Nearest stored issues per query vector: ``[(id, cosine distance), ...]``."""
        col = self.collection(embedder)
        res = col.query(
            query_embeddings=[list(map(float, v)) for v in vectors], n_results=n_results, include=["distances"]
        )
        return [
            list(zip(ids, map(float, dists), strict=True))
            for ids, dists in zip(res["ids"], res["distances"], strict=True)
        ]

    def count(self, embedder: Embedder) -> int:
        return int(self.collection(embedder).count())
