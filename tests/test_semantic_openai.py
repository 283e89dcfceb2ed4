"""The OpenAI paths through the real openai SDK and real HTTP, against a loopback OpenAI-compatible stub.

The stub (``ThreadingHTTPServer`` on 127.0.0.1:0) serves ``POST /v1/embeddings`` and ``POST /v1/chat/completions``
and can be scripted per request (or by default, for a provider that fails persistently) to answer 429, 500,
too slowly (beyond the client timeout), with malformed JSON, or to close the connection without an answer. It
logs every request body, so tests can count calls and check that no secret ever arrived.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ccl_tui.semantic.embedders import HashingEmbedder, OpenAIEmbedder
from ccl_tui.semantic.llm import ClusterName, LLMClient, LLMReport, MessageLabel, estimate_call_cost
from ccl_tui.store.db import Store
from ccl_tui.store.ingest import ingest
from tests.builders import Rollout

PLANTED_KEY = "sk-proj-" + "Q7vX2mN9pL4kR8sT1wY6zB3cD5fG0hJ" + "aE4iU7oP2qW9xK1nM5"


class StubState:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.raw: list[bytes] = []
        self.chat_script: list[str] = []  # per request: ok | 429 | 401 | 500 | slow | malformed | close
        self.embed_script: list[str] = []
        self.chat_default = "ok"  # the action once the script is used up
        self.embed_default = "ok"
        self.retry_after = {"retry-after-ms": "5"}  # headers of a 429
        self.slow_seconds = 1.5
        self.usage = (120, 20)  # prompt, completion tokens reported for chat calls
        self.embedder = HashingEmbedder(dim=1536)  # semantically meaningful stand-in vectors
        self.lock = threading.Lock()

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r["path"] == path)


def classify_reply(user_text: str) -> dict[str, Any]:
    """The stub's deterministic 'model': keywords -> label."""
    t = user_text.lower().split("user's message:")[-1]
    for words, label in (
        (("ugh", "annoying", "forever"), "frustration"),
        (("why did you", "what does"), "confusion"),
        (("love it", "brilliant"), "positive"),
        (("nope", "undo that"), "pushback"),
    ):
        if any(w in t for w in words):
            return {"label": label, "confidence": 0.9, "rationale": f"stub saw {label} words"}
    return {"label": "neutral", "confidence": 0.8, "rationale": "a plain request"}


def make_handler(state: StubState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = json.loads(raw or b"{}")
            path = self.path
            with state.lock:
                state.raw.append(raw)
                state.requests.append({"path": path, "body": body, "t": time.monotonic()})
                chat = path.endswith("/chat/completions")
                script = state.chat_script if chat else state.embed_script
                action = script.pop(0) if script else (state.chat_default if chat else state.embed_default)
            if action == "close":  # hang up without an answer: the client sees a connection error
                self.close_connection = True
                return None
            if action == "429":
                return self._send(
                    429, b'{"error": {"message": "rate limited", "type": "requests"}}', dict(state.retry_after)
                )
            if action == "401":
                return self._send(401, b'{"error": {"message": "bad key", "type": "invalid_request_error"}}')
            if action == "500":
                return self._send(500, b'{"error": {"message": "boom", "type": "server_error"}}')
            if action == "slow":
                time.sleep(state.slow_seconds)
            if path.endswith("/embeddings"):
                inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                vecs = state.embedder.embed(inputs)
                data = [
                    {"object": "embedding", "index": i, "embedding": [float(x) for x in v]} for i, v in enumerate(vecs)
                ]
                n = sum(len(t) // 4 + 1 for t in inputs)
                return self._send(
                    200,
                    json.dumps(
                        {
                            "object": "list",
                            "model": body["model"],
                            "data": data,
                            "usage": {"prompt_tokens": n, "total_tokens": n},
                        }
                    ).encode(),
                )
            if path.endswith("/chat/completions"):
                schema = body.get("response_format", {}).get("json_schema", {}).get("name", "")
                user = next((m["content"] for m in body["messages"] if m["role"] == "user"), "")
                if action == "malformed":
                    content = '{"label": "pushback", "confidence": '  # cut off: not JSON
                elif schema == "ClusterName":
                    first = user.splitlines()[1][2:] if len(user.splitlines()) > 1 else "issues"
                    content = json.dumps({"name": f"Stub name: {first[:40]}", "summary": "Stub summary."})
                else:
                    content = json.dumps(classify_reply(user))
                p, c = state.usage
                reply = {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "logprobs": None,
                            "message": {"role": "assistant", "content": content, "refusal": None},
                        }
                    ],
                    "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c},
                }
                return self._send(200, json.dumps(reply).encode())
            return self._send(404, b'{"error": {"message": "not found"}}')

    return Handler


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up before the (slow) answer: not the test's business


@contextlib.contextmanager
def serve(state: StubState) -> Iterator[str]:
    """Run the stub for ``state`` on 127.0.0.1; yields its base URL (``.../v1``)."""
    server = QuietServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def stub() -> Iterator[tuple[StubState, str]]:
    state = StubState()
    with serve(state) as url:
        yield state, url


def client_for(store: Store, url: str, **kw: Any) -> LLMClient:
    opts: dict[str, Any] = {
        "api_key": "test-key",
        "base_url": url,
        "retries": 2,
        "backoff": 0.01,
        "timeout": 5.0,
        "concurrency": 4,
        "max_cost": 1.0,
    }
    opts.update(kw)
    return LLMClient(store.db, **opts)


# --------------------------------------------------------------------------------------------- embeddings
def test_openai_embedder_batches_and_honours_base_url_env(
    stub: tuple[StubState, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, url = stub
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    emb = OpenAIEmbedder(batch_size=2, max_retries=0)
    texts = ["No module named requests", "ModuleNotFoundError: requests", "EADDRINUSE :3000", "x", "y"]
    v = emb.embed(texts)
    assert v.shape == (5, 1536)
    assert state.count("/v1/embeddings") == 3  # 2 + 2 + 1
    assert [r["body"]["model"] for r in state.requests] == ["text-embedding-3-small"] * 3
    assert abs(float((v[0] ** 2).sum()) - 1.0) < 1e-5
    assert float(v[0] @ v[1]) > float(v[0] @ v[2])  # the stub's vectors carry meaning
    assert emb.tokens_used > 0


def test_openai_embedder_error_is_an_embedder_error(stub: tuple[StubState, str]) -> None:
    from ccl_tui.semantic.embedders import EmbedderError

    state, url = stub
    state.embed_script = ["500"]
    with pytest.raises(EmbedderError, match="InternalServerError"):
        OpenAIEmbedder(api_key="k", base_url=url, max_retries=0).embed(["a"])
    with pytest.raises(EmbedderError, match="OPENAI_API_KEY"):
        OpenAIEmbedder(api_key=None, base_url=url).embed(["a"])


# --------------------------------------------------------------------------------------------- chat
async def test_structured_classification_and_cache_second_run_makes_no_requests(
    store: Store, stub: tuple[StubState, str]
) -> None:
    state, url = stub
    texts = ["ugh, this is taking forever", "why did you touch the migrations?", "love it", "add a docstring"]
    client = client_for(store, url)
    tasks = [client.classify_task(t, "I changed the file.") for t in texts]
    report = LLMReport()
    seen: list[tuple[int, int]] = []
    got = await client.run(tasks, report, lambda d, n: seen.append((d, n)))
    labels = [got[t.key].label for t in tasks]  # type: ignore[attr-defined]
    assert labels == ["frustration", "confusion", "positive", "neutral"]
    assert all(isinstance(got[t.key], MessageLabel) for t in tasks)
    assert state.count("/v1/chat/completions") == 4 and report.called == 4 and report.cached == 0
    req = state.requests[0]["body"]
    assert req["model"] == "gpt-4o"
    assert req["response_format"]["type"] == "json_schema"
    assert req["response_format"]["json_schema"]["name"] == "MessageLabel"
    assert seen[-1] == (4, 4)
    assert report.cost_usd == pytest.approx(4 * estimate_call_cost("gpt-4o", 120, 20))

    again = client_for(store, url)  # a new client, same SQLite cache
    report2 = LLMReport()
    est = await again.estimate([again.classify_task(t, "I changed the file.") for t in texts])
    assert est.calls == 0 and est.cached == 4 and est.usd == 0
    tasks2 = [again.classify_task(t, "I changed the file.") for t in texts]
    got2 = await again.run(tasks2, report2)
    assert [got2[t.key].label for t in tasks2] == labels  # type: ignore[attr-defined]
    assert state.count("/v1/chat/completions") == 4  # zero new HTTP requests
    assert report2.cached == 4 and report2.called == 0 and report2.cost_usd == 0


async def test_cluster_naming_uses_its_own_schema(store: Store, stub: tuple[StubState, str]) -> None:
    state, url = stub
    client = client_for(store, url)
    task = client.cluster_task(
        ["pytest fails: No module named requests", "python fails: requests missing"], ["ModuleNotFoundError: requests"]
    )
    got = await client.run([task])
    named = got[task.key]
    assert isinstance(named, ClusterName) and named.name.startswith("Stub name")
    assert state.requests[0]["body"]["response_format"]["json_schema"]["name"] == "ClusterName"


async def test_retries_with_backoff_on_429_and_500(store: Store, stub: tuple[StubState, str]) -> None:
    state, url = stub
    state.chat_script = ["429", "500", "ok"]
    report = LLMReport()
    client = client_for(store, url, concurrency=1)
    task = client.classify_task("ugh, annoying")
    got = await client.run([task], report)
    assert got[task.key].label == "frustration"  # type: ignore[attr-defined]
    assert state.count("/v1/chat/completions") == 3 and report.retries == 2 and report.failed == 0


async def test_retries_honour_a_short_retry_after(store: Store, stub: tuple[StubState, str]) -> None:
    state, url = stub
    state.chat_script = ["429", "429"]
    state.retry_after = {"retry-after": "0.4"}
    report = LLMReport()
    client = client_for(store, url, retries=2, backoff=0.01)
    task = client.classify_task("love it")
    t0 = time.perf_counter()
    got = await client.run([task], report)
    assert got[task.key].label == "positive"  # type: ignore[attr-defined]
    assert time.perf_counter() - t0 >= 0.8  # waited as asked twice, not the 0.01 s backoff
    # ccl-tui's retries, not the SDK's (its max_retries is 0): every request went through the breaker
    assert state.count("/v1/chat/completions") == 3 and report.retries == 2
    assert client.breaker.requests == 3 and client.breaker.failed_requests == 2 and not client.breaker.is_open


async def test_a_long_retry_after_fails_the_call_at_once(store: Store, stub: tuple[StubState, str]) -> None:
    state, url = stub
    state.chat_script = ["429"]
    state.retry_after = {"retry-after": "3600"}
    report = LLMReport()
    client = client_for(store, url, retries=2, concurrency=1)
    t0 = time.perf_counter()
    got = await client.run([client.classify_task("love it"), client.classify_task("ugh")], report)
    assert time.perf_counter() - t0 < 5  # the breaker's time budget wins over the server's wish
    assert len(got) == 1 and report.failed == 1 and report.retries == 0
    assert state.count("/v1/chat/completions") == 2


async def test_persistent_500_is_reported_and_never_raises(store: Store, stub: tuple[StubState, str]) -> None:
    state, url = stub
    state.chat_script = ["500"] * 10
    report = LLMReport()
    client = client_for(store, url, retries=2)
    tasks = [client.classify_task("ugh"), client.classify_task("love it")]
    got = await client.run(tasks, report)
    assert got == {}
    assert report.failed == 2 and report.error_summary() == {"HTTP 500 (InternalServerError)": 2}
    assert state.count("/v1/chat/completions") == 6  # 1 + 2 retries each


async def test_timeout_is_reported(store: Store, stub: tuple[StubState, str]) -> None:
    state, url = stub
    state.chat_script = ["slow", "slow"]
    state.slow_seconds = 1.5
    report = LLMReport()
    client = client_for(store, url, timeout=0.3, retries=1)
    t0 = time.perf_counter()
    got = await client.run([client.classify_task("ugh")], report)
    assert got == {} and report.error_summary() == {"timeout": 1}
    assert time.perf_counter() - t0 < 1.4  # two attempts of 0.3 s, not two slow replies
    assert state.count("/v1/chat/completions") == 2


async def test_malformed_json_falls_back(store: Store, stub: tuple[StubState, str]) -> None:
    state, url = stub
    state.chat_script = ["malformed"]
    report = LLMReport()
    client = client_for(store, url)
    tasks = [client.classify_task("ugh, forever"), client.classify_task("love it")]
    got = await client.run(tasks, report)
    assert len(got) == 1 and report.failed == 1
    (reason,) = report.error_summary()
    assert reason.startswith("malformed structured output")
    # The failure is not cached: the next run asks again and succeeds.
    got2 = await client_for(store, url).run(tasks, LLMReport())
    assert len(got2) == 2


async def test_max_cost_stops_before_exceeding(store: Store, stub: tuple[StubState, str]) -> None:
    state, url = stub
    state.usage = (1000, 100)
    actual = estimate_call_cost("gpt-4o", 1000, 100)
    probe = client_for(store, url)
    texts = [f"request number {i}: ugh" for i in range(6)]
    est = estimate_call_cost("gpt-4o", probe.classify_task(texts[0]).est_input_tokens, 80)
    max_cost = 2 * actual + est / 2  # room for exactly two calls
    client = client_for(store, url, concurrency=1, max_cost=max_cost)
    report = LLMReport()
    got = await client.run([client.classify_task(t) for t in texts], report)
    assert len(got) == 2 and state.count("/v1/chat/completions") == 2
    assert report.skipped_budget == 4 and report.cost_usd <= max_cost
    assert any("max cost" in e for e in report.errors)


async def test_auth_failure_disables_further_calls(store: Store, stub: tuple[StubState, str]) -> None:
    state, url = stub
    state.chat_script = ["401"] * 10
    client = client_for(store, url, concurrency=1)
    report = LLMReport()
    got = await client.run([client.classify_task(f"m{i}") for i in range(5)], report)
    assert got == {} and report.failed == 1 and report.skipped_disabled == 4
    assert state.count("/v1/chat/completions") == 1  # a bad key is not retried, nor tried again


# --------------------------------------------------------------------------------------------- end to end
FRUSTRATED = "ugh, this is taking forever"
CONFUSED = "what does this sync step do exactly?"


def corpus(root: Path) -> None:
    for i, (cmd, err, reaction) in enumerate(
        [
            ("pytest -q", "ModuleNotFoundError: No module named 'requests'", FRUSTRATED),
            ("python -m app.sync", "ImportError: No module named requests", CONFUSED),
            ("pytest -q tests/test_x.py", "E   ModuleNotFoundError: No module named 'requests'", "love it"),
            ("npm test", "Error: listen EADDRINUSE: address already in use :::3000", "add a docstring please"),
        ]
    ):
        r = Rollout(start=f"2026-10-0{i + 1}T09:00:00", cwd=f"/home/dev/src/repo{i}")
        r.user("make the tests pass")
        r.exec(cmd, f"{err}\nexport OPENAI_API_KEY={PLANTED_KEY}", 1)
        r.assistant("I could not fix it yet.")
        r.complete()
        r.user(f"{reaction} (my key is {PLANTED_KEY})")
        r.assistant("OK.")
        r.complete()
        r.write(root)


async def test_analyze_with_llm_and_openai_embeddings_end_to_end(
    store: Store, stub: tuple[StubState, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ccl_tui.semantic.analyze import analyze, clusters

    state, url = stub
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    corpus(tmp_path / "home")
    await ingest(store, [tmp_path / "home"])
    estimates = []
    opts = {"backoff": 0.01}
    s = await analyze(
        store,
        embedder="auto",
        llm=True,
        max_cost=1.0,
        chroma_path=str(tmp_path / "chroma"),
        llm_options=opts,
        confirm=lambda e: estimates.append(e) or True,
    )
    assert s.embedder == "openai-text-embedding-3-small-1536" and s.collection.startswith("issues__openai")
    assert estimates and estimates[0].usd > 0 and s.estimate_usd == estimates[0].usd
    assert s.messages_considered >= 4 and s.messages_classified == s.messages_considered
    assert s.model_signals == 3  # frustration, confusion, positive; "add a docstring" is neutral
    assert s.fallbacks == [] and s.errors == {} and s.provider_given_up == ""
    assert s.provider_requests == len(state.requests) and s.provider_failed_requests == 0
    model = [x for x in await store.signals() if x.source == "model"]
    assert {x.signature for x in model} == {
        "pushback | frustration (model-derived)",
        "pushback | confusion (model-derived)",
        "delight | positive feedback (model-derived)",
    }
    assert all("[model-derived" in x.detail for x in model)
    sigs = {i.signature for i in await store.issues()}
    assert "pushback | frustration (model-derived)" in sigs  # ranked like any friction, marked as model-derived
    # the three "requests" failures are one cluster, named by the model
    cs = await clusters(store)
    merged = [c for c in cs if len(c.members) > 1]
    assert merged and merged[0].model_derived and merged[0].name.startswith("Stub name")
    members = [m.signature for m in merged[0].members]
    assert len(members) >= 2 and all("requests" in m for m in members), members
    assert len({m.split(" | ")[0] for m in members}) >= 2  # different programs, one problem
    # nothing secret ever reached the server
    assert state.raw and not any(PLANTED_KEY.encode() in raw for raw in state.raw)
    assert any(b"[REDACTED:" in raw for raw in state.raw)

    n_chat, n_emb = state.count("/v1/chat/completions"), state.count("/v1/embeddings")
    s2 = await analyze(
        store, embedder="auto", llm=True, max_cost=1.0, chroma_path=str(tmp_path / "chroma"), llm_options=opts
    )
    assert (state.count("/v1/chat/completions"), state.count("/v1/embeddings")) == (n_chat, n_emb)  # all cached
    assert s2.llm_calls == 0 and s2.llm_cached > 0 and s2.reused == s2.issues and s2.cost_usd == 0
    assert [c.id for c in await clusters(store)] == [c.id for c in cs]


async def test_analyze_falls_back_when_the_server_fails(
    store: Store, stub: tuple[StubState, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ccl_tui.semantic.analyze import analyze

    state, url = stub
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    state.embed_script = ["500"] * 20
    state.chat_script = ["500"] * 200
    corpus(tmp_path / "home")
    await ingest(store, [tmp_path / "home"])
    s = await analyze(
        store,
        embedder="openai",
        llm=True,
        chroma_path=str(tmp_path / "chroma"),
        llm_options={"backoff": 0.01, "retries": 0},
        embedder_options={"max_retries": 0},
    )
    assert s.embedder.startswith("hashing") and any("used the local embedder" in f for f in s.fallbacks)
    assert s.model_signals == 0 and s.llm_failed > 0 and "HTTP 500 (InternalServerError)" in s.errors
    assert s.clusters > 0  # rules + local embedder still did the work
    assert not [x for x in await store.signals() if x.source == "model"]


async def test_llm_without_key_uses_rules_only(store: Store, tmp_path: Path) -> None:
    from ccl_tui.semantic.analyze import analyze

    corpus(tmp_path / "home")
    await ingest(store, [tmp_path / "home"])
    asked = []
    s = await analyze(store, llm=True, chroma_path=str(tmp_path / "chroma"), confirm=lambda e: asked.append(e) or True)
    assert s.embedder.startswith("hashing") and s.model_signals == 0 and s.clusters > 0
    assert asked == []  # nothing can cost money: no confirmation asked
    assert any("OPENAI_API_KEY" in f for f in s.fallbacks)
