"""The store and incremental ingest: only new data arrives, rewrites are re-read, copies stored once."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from ccl_tui.store.db import SchemaTooNew, Store
from ccl_tui.store.ingest import ingest
from ccl_tui.store.schema import SCHEMA_VERSION
from tests.builders import Rollout, legacy_rollout
from tests.conftest import PROCESSES_FOR_ANY_SIZE, write_config


def bump_mtime(p: Path) -> None:
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


async def test_ingest_samples_and_rerun_is_noop(store: Store, samples: Path) -> None:
    first = await ingest(store, [samples])
    assert (first.files_seen, first.new, first.malformed, first.errors) == (3, 3, 0, [])
    counts = await store.counts()
    assert counts["sessions"] == 3 and counts["events"] == first.events_added == 404
    again = await ingest(store, [samples])
    assert (again.unchanged, again.new, again.updated, again.events_added) == (3, 0, 0, 0)
    s = await store.session("019e1625")
    assert s is not None and s.turns == 2 and s.user_messages == 2 and s.tool_calls == 102
    assert s.context_window == 258400 and s.tokens_total and s.tokens_total > 100_000


async def test_appended_lines_arrive_once(store: Store, tmp_path: Path) -> None:
    r = Rollout()
    r.user("first")
    r.exec("pytest -q", "1 failed", 1)
    path = r.write(tmp_path)
    await ingest(store, [tmp_path])
    before = await store.events(r.id)
    n = len(r.lines)
    r.assistant("fixing")
    r.exec("pytest -q", "ok", 0)
    r.complete()
    with path.open("a") as f:
        f.write(r.text().split("\n", n)[n])
    summary = await ingest(store, [tmp_path])
    assert (summary.updated, summary.new) == (1, 0)
    after = await store.events(r.id)
    assert after[: len(before)] == before
    assert [e.kind for e in after[len(before) :]] == [
        "assistant_message",
        "tool_call",
        "tool_output",
        "tool_output",
        "turn_completed",
    ]
    assert summary.events_added == len(after) - len(before)
    # Same content as a clean ingest of the final file.
    clean = await Store.open(tmp_path / "clean.sqlite")
    try:
        await ingest(clean, [path])
        assert await clean.events(r.id) == after
    finally:
        await clean.close()


async def test_partial_line_completed_later(store: Store, tmp_path: Path) -> None:
    r = Rollout()
    r.user("hello")
    path = r.write(tmp_path)
    whole = path.read_bytes()
    r.assistant("hi there")
    extra = r.text().encode()[len(whole) :]
    path.write_bytes(whole + extra[:25])
    s1 = await ingest(store, [tmp_path])
    assert s1.pending_partial == [str(path)] and s1.malformed == 0
    path.write_bytes(whole + extra)
    s2 = await ingest(store, [tmp_path])
    assert s2.malformed == 0 and s2.pending_partial == []
    assert [e.kind for e in await store.events(r.id)][-1] == "assistant_message"


async def test_rewritten_or_shrunk_file_is_reread(store: Store, tmp_path: Path) -> None:
    r = Rollout()
    r.user("one")
    r.exec("ls", "a", 0)
    path = r.write(tmp_path)
    await ingest(store, [tmp_path])
    r2 = Rollout(r.id)
    r2.user("completely different")
    path.write_text(r2.text())
    bump_mtime(path)
    summary = await ingest(store, [tmp_path])
    assert (summary.updated, summary.reread, summary.new) == (1, 1, 0)  # re-read from the start
    events = await store.events(r.id)
    assert [e.text for e in events if e.kind == "user_message"] == ["completely different"]


async def test_archived_copy_is_stored_once(store: Store, tmp_path: Path) -> None:
    home = tmp_path / "codex"
    r = Rollout()
    r.user("task")
    r.exec("make", "ok", 0)
    p = r.write(home)
    (home / "archived_sessions").mkdir(parents=True)
    shutil.copy(p, home / "archived_sessions" / p.name)
    summary = await ingest(store, [home])
    assert summary.files_seen == 2 and summary.duplicates == 1
    assert (await store.counts())["sessions"] == 1
    n_events = (await store.counts())["events"]
    # Codex moves the file to archived_sessions: the copy takes over, nothing is lost or doubled.
    p.unlink()
    await ingest(store, [home])
    assert (await store.counts())["events"] == n_events
    s = await store.session(r.id)
    assert s is not None and "archived_sessions" in s.file


async def test_malformed_lines_recorded_with_location(store: Store, tmp_path: Path) -> None:
    r = Rollout()
    r.user("x")
    path = r.write(tmp_path)
    path.write_bytes(
        path.read_bytes()
        + b"{broken\n"
        + b'{"timestamp":"2026-10-05T09:01:00.000Z","type":"event_msg","payload":{"type":"user_message","message":"y"}}\n'
    )
    summary = await ingest(store, [tmp_path])
    assert summary.malformed == 1
    assert summary.malformed_examples[0][:2] == (str(path), len(r.lines) + 1)
    rows = await store.malformed_lines()
    assert rows[0][:2] == (str(path), len(r.lines) + 1)
    assert [e.text for e in await store.events(r.id) if e.kind == "user_message"] == ["x", "y"]


async def test_empty_then_written_file(store: Store, tmp_path: Path) -> None:
    r = Rollout()
    r.user("later")
    d = tmp_path / "sessions" / "2026" / "10" / "05"
    d.mkdir(parents=True)
    path = d / r.file_name()
    path.write_bytes(b"")
    s1 = await ingest(store, [tmp_path])
    assert s1.empty == 1
    path.write_text(r.text())
    s2 = await ingest(store, [tmp_path])
    assert s2.updated + s2.new == 1
    assert (await store.counts())["sessions"] == 1


async def test_legacy_and_zstd_in_one_home(store: Store, tmp_path: Path) -> None:
    import zstandard

    home = tmp_path / "home"
    d = home / "sessions" / "2025" / "08" / "20"
    d.mkdir(parents=True)
    (d / "rollout-2025-08-20T15-20-47-5973b6c0-94b8-487b-a530-2aeb6098ae0e.jsonl").write_text(legacy_rollout())
    r = Rollout()
    r.user("zipped")
    p = r.write(home)
    p.with_name(p.name + ".zst").write_bytes(zstandard.ZstdCompressor().compress(p.read_bytes()))
    p.unlink()
    summary = await ingest(store, [home])
    assert summary.new == 2 and summary.errors == []
    eras = sorted(s.era or "" for s in await store.sessions())
    assert eras == ["enveloped", "legacy"]


async def test_sessions_filters(store: Store, tmp_path: Path) -> None:
    Rollout(start="2026-10-01T09:00:00", originator="codex_exec", source="exec").write(tmp_path)
    Rollout(start="2026-10-10T09:00:00").write(tmp_path)
    await ingest(store, [tmp_path])
    assert [s.origin for s in await store.sessions(origin="exec")] == ["exec"]
    assert len(await store.sessions(since="2026-10-05")) == 1
    assert len(await store.sessions(repo="billing-api")) == 2


async def test_schema_versioning(tmp_path: Path) -> None:
    db = tmp_path / "v.sqlite"
    s = await Store.open(db)
    assert await s.schema_version() == SCHEMA_VERSION
    await s.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    await s.close()
    with pytest.raises(SchemaTooNew, match="Upgrade ccl-tui"):
        await Store.open(db)


async def test_migration_from_empty_database_file(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite"
    sqlite3.connect(db).close()
    s = await Store.open(db)
    try:
        assert await s.schema_version() == SCHEMA_VERSION
        assert (await s.counts())["sessions"] == 0
    finally:
        await s.close()


async def test_output_text_shared_between_records_is_restored(store: Store, tmp_path: Path) -> None:
    r = Rollout(era="C")
    r.user("run")
    r.exec("pytest -q", "E   AssertionError: boom\n1 failed", 1)
    r.write(tmp_path)
    await ingest(store, [tmp_path])
    outs = [e for e in await store.events(r.id) if e.kind == "tool_output"]
    assert [e.raw_type for e in outs] == ["response_item/function_call_output", "event_msg/exec_command_end"]
    assert all(e.text == "E   AssertionError: boom\n1 failed" for e in outs)
    single = await store.event(r.id, outs[1].seq)
    assert single is not None and single.text == outs[0].text


def _die_in_worker(*args: object) -> bytes:
    import os

    os._exit(3)  # a worker process that dies (killed, out of memory...)


async def test_broken_worker_pool_falls_back_to_a_thread(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ccl_tui.store.ingest as ingest_mod

    for i in range(4):
        r = Rollout(start=f"2026-10-0{i + 1}T09:00:00")
        r.user("task")
        r.exec("pytest", "ok", 0)
        r.write(tmp_path)
    write_config(PROCESSES_FOR_ANY_SIZE)
    monkeypatch.setattr(ingest_mod, "parse_file_wire", _die_in_worker)
    summary = await ingest(store, [tmp_path], workers=2)
    assert summary.new == 4 and (await store.counts())["sessions"] == 4
    assert ("(ingest)", "worker processes failed (a worker process died); continued in one thread") in summary.errors
