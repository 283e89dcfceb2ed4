"""Detection next to the parser stores exactly what detection from the store finds, and the batched writer
keeps every file whole."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ccl_tui.pipeline import ingest_and_detect, refresh
from ccl_tui.store.db import Store
from ccl_tui.store.ingest import ingest
from tests.builders import Rollout
from tests.conftest import PROCESSES_FOR_ANY_SIZE, write_config

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "fixtures" / "codex_real"
SAMPLES = ROOT / "tests" / "fixtures" / "codex_samples"


def _corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    for src in (REAL, SAMPLES):
        for p in sorted(src.glob("*.jsonl")):
            shutil.copy(p, root / p.name)
    demo = sorted((ROOT / "demo_sessions").rglob("rollout-*.jsonl"))[:60]
    for p in demo:
        shutil.copy(p, root / p.name)
    return root


async def _signals(store: Store) -> list[tuple]:
    return sorted(
        (s.session_id, s.kind, tuple(s.evidence), s.signature, s.severity, s.detail, s.cost.turns, s.cost.tokens)
        for s in await store.signals()
    )


@pytest.mark.parametrize("processes", [False, True], ids=["thread", "processes"])
async def test_signals_detected_next_to_the_parser_equal_those_detected_from_the_store(
    tmp_path: Path, processes: bool
) -> None:
    root = _corpus(tmp_path)
    if processes:
        write_config(PROCESSES_FOR_ANY_SIZE)
    a = await Store.open(tmp_path / "a.sqlite")
    b = await Store.open(tmp_path / "b.sqlite")
    try:
        ingested = await ingest_and_detect(a, [root])
        after = await refresh(a)
        assert ingested.sessions_detected == len(ingested.sessions_touched) > 80
        assert after.sessions_detected == 0  # nothing left for the pass that reads the store
        await ingest(b, [root])
        assert (await refresh(b)).sessions_detected == len(ingested.sessions_touched)
        assert await _signals(a) == await _signals(b) and await _signals(a)
        assert [i.id for i in await a.issues()] == [i.id for i in await b.issues()]
    finally:
        await a.close()
        await b.close()


async def test_a_continued_file_is_detected_from_the_store(store: Store, tmp_path: Path) -> None:
    r = Rollout(start="2026-10-01T09:00:00")
    r.user("make the tests pass")
    r.exec("pytest -q", "E   ModuleNotFoundError: No module named 'httpx'", 2)
    path = r.write(tmp_path)
    first = await ingest_and_detect(store, [tmp_path])
    assert first.sessions_detected == 1
    r.exec("pytest -q", "E   ModuleNotFoundError: No module named 'httpx'", 2)
    path.write_text(r.text())  # the same file, grown: read from its offset
    again = await ingest_and_detect(store, [tmp_path])
    assert again.updated == 1 and again.sessions_detected == 0
    d = await refresh(store)
    assert d.sessions_detected == 1  # only the grown session, from all its stored events
    kinds = [s.kind for s in await store.signals()]
    assert kinds.count("command_failure") == 2  # the second failure, found in the stored session


async def test_a_file_that_cannot_be_stored_leaves_the_rest_of_its_batch(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files share a commit; a file whose write fails is rolled back alone (its savepoint) and reported."""
    import ccl_tui.store.writer as writer

    for i in range(5):
        r = Rollout(start=f"2026-10-0{i + 1}T09:00:00")
        r.user(f"task {i}")
        r.exec("ls", "ok", 0)
        r.write(tmp_path)
    real = writer.write_parse
    seen: list[str] = []

    def flaky(con, parse):  # type: ignore[no-untyped-def]
        seen.append(parse.path)
        out = real(con, parse)
        if len(seen) == 3:
            con.execute("INSERT INTO events(sid, seq, kind) VALUES (NULL, 0, 'x')")  # NOT NULL: IntegrityError
        return out

    def failing_third(con, parse):  # type: ignore[no-untyped-def]
        from ccl_tui.store.tx import transaction

        with transaction(con):  # the file's block, nested in the writer's batch
            return flaky(con, parse)

    monkeypatch.setattr(writer, "write_parse", failing_third)
    summary = await ingest(store, [tmp_path])
    assert summary.new == 4 and len(summary.errors) == 1 and "IntegrityError" in summary.errors[0][1]
    counts = await store.counts()
    assert counts["sessions"] == 4  # the failed file's session row was rolled back with it
    records = await store.file_records()
    assert sorted(r.status for r in records.values()) == ["error", "ok", "ok", "ok", "ok"]
