"""Hostile but fair input: every way a log broke ingest once, each with its minimal input, plus a bounded,
seeded fuzz over real rollouts. No traceback, nothing lost beyond the damaged record, no hang."""

from __future__ import annotations

import copy
import gzip
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import zstandard

import ccl_tui.sources.reader as reader_mod
from ccl_tui.model.events import EVENT_COLUMNS
from ccl_tui.pipeline import refresh
from ccl_tui.sources.discover import discover
from ccl_tui.sources.parse import parse_file
from ccl_tui.store.db import Store
from ccl_tui.store.ingest import ingest
from tests.builders import Rollout
from tests.conftest import PROCESSES_FOR_ANY_SIZE, write_config

FIXTURES = Path(__file__).parent / "fixtures"
REAL = sorted((FIXTURES / "codex_real").glob("*.jsonl")) + sorted((FIXTURES / "codex_samples").glob("*.jsonl"))
COL = {c: i for i, c in enumerate(EVENT_COLUMNS)}
BIG = 2**64 - 1


def _clean(tmp: Path, n: int) -> None:
    for i in range(n):
        r = Rollout(start=f"2026-10-{1 + i % 28:02d}T09:{i % 60:02d}:00", cwd=f"/home/dev/src/app{i}")
        r.user("run the tests")
        r.exec("pytest -q", "E   AssertionError: boom\n1 failed", 1)
        r.exec("pytest -q", "3 passed", 0)
        r.complete()
        r.write(tmp)


async def test_out_of_range_integers_cost_nothing(tmp_path: Path, store: Store) -> None:
    _clean(tmp_path, 20)
    r = Rollout(start="2026-10-29T09:00:00")
    r.user("go")
    cid = r.exec("pytest -q", "x", 0)
    r.lines[-1]["payload"]["exit_code"] = BIG  # exec_command_end
    r.exec("make", "Process exited with code 99999999999999999999\nWall time: " + "9" * 5000 + " seconds", 3)
    r.tokens(BIG, BIG, window=BIG)
    r.add("event_msg", {"type": "task_complete", "turn_id": r.turn_id, "duration_ms": BIG})
    r.add("event_msg", {"type": "task_started", "turn_id": "t2", "model_context_window": BIG})
    r.write(tmp_path)
    s = await ingest(store, [tmp_path])
    assert s.new == 21 and (await store.counts())["sessions"] == 21
    assert not [e for e in s.errors if "Overflow" in e[1]]
    events = await store.events(r.id)
    assert any(e.call_id == cid for e in events)
    d = await refresh(store)
    assert d.sessions_detected == 21 and d.signals > 0
    again = await ingest(store, [tmp_path])  # the rerun is clean too
    assert again.unchanged == 21 and again.errors == []


WRONG_TYPES: list[tuple[str, Any]] = [
    ("images", "not-a-list"),
    ("images", 7),
    ("images", {"a": 1}),
    ("payload_type", ["user_message"]),
    ("payload_type", {"x": 1}),
    ("summary", 5),
    ("duration", 1e308),
    ("duration", {"secs": 1e308}),
    ("duration", "1.2.3s"),
    ("duration", float("nan")),
    ("content", 300),
    ("arguments", {"command": 5}),
    ("output", 12.5),
    ("meta_id", 12345),
    ("changes", ["a"]),
]


def _nested(depth: int) -> Any:
    v: Any = "x"
    for _ in range(depth):
        v = {"k": v}
    return v


@pytest.mark.parametrize(
    ("field", "value"),
    [*WRONG_TYPES, ("deep", _nested(300))],
    ids=[f"{f}-{type(v).__name__}" for f, v in [*WRONG_TYPES, ("deep", 0)]],
)
def test_a_wrong_type_costs_one_record_never_the_rest_of_the_file(tmp_path: Path, field: str, value: Any) -> None:
    r = Rollout(era="C")
    r.user("first prompt")
    r.exec("pytest -q", "1 failed", 1)
    target = len(r.lines)  # the record to damage (1-based line of the next one added)
    r.user("second prompt")
    r.reasoning("thinking")
    r.patch("a.py", ok=True)
    r.exec("ls", "a.py", 0)
    r.user("third prompt")
    r.exec("pytest -q", "ok", 0)
    r.complete()
    lines = r.lines
    line = target + 4  # the user_message event of "second prompt"
    if field == "images":
        lines[line - 1]["payload"]["images"] = value
    elif field == "payload_type":
        lines[line - 1]["payload"]["type"] = value
    elif field == "summary":
        line = next(i for i, x in enumerate(lines, 1) if x["payload"].get("type") == "reasoning")
        lines[line - 1]["payload"]["summary"] = value
    elif field == "duration":
        line = next(i for i, x in enumerate(lines, 1) if x["payload"].get("type") == "exec_command_end")
        lines[line - 1]["payload"]["duration"] = value
    elif field == "content":
        lines[line - 2]["payload"]["content"] = value
        line -= 1
    elif field == "arguments":
        line = next(i for i, x in enumerate(lines, 1) if x["payload"].get("type") == "function_call")
        lines[line - 1]["payload"]["arguments"] = value
    elif field == "output":
        line = next(i for i, x in enumerate(lines, 1) if x["payload"].get("type") == "function_call_output")
        lines[line - 1]["payload"]["output"] = value
    elif field == "meta_id":
        lines[0]["payload"]["id"] = value
        line = 1
    elif field == "changes":
        line = next(i for i, x in enumerate(lines, 1) if x["payload"].get("type") == "patch_apply_end")
        lines[line - 1]["payload"]["changes"] = value
    else:
        lines[line - 1]["payload"]["extra"] = value
    path = r.write(tmp_path)
    clean = parse_file(str(path)) if field == "deep" else None
    res = parse_file(str(path))
    assert res.error is None and res.session is not None
    assert res.session.id == r.id  # a non-string meta id falls back to the file name's
    got = {(row[COL["line"]], row[COL["raw_type"]]) for row in res.rows}
    assert any(row[COL["line"]] == len(lines) for row in res.rows), "lines after the damaged one were lost"
    assert all(b.line == line for b in res.bad), [(b.line, b.reason) for b in res.bad]  # the culprit's own line
    prompts = [row[COL["text"]] for row in res.rows if row[COL["kind"]] == "user_message"]
    assert "third prompt" in prompts and "first prompt" in prompts
    if clean is not None:
        assert got == {(row[COL["line"]], row[COL["raw_type"]]) for row in clean.rows}


def test_discovery_survives_loops_odd_names_and_special_files(tmp_path: Path) -> None:
    home = tmp_path / "logs"
    home.mkdir()
    good = Rollout().write(home, dated=False)
    (home / "rollout-a.jsonl").symlink_to(home / "rollout-b.jsonl")
    (home / "rollout-b.jsonl").symlink_to(home / "rollout-a.jsonl")
    os.mkfifo(home / "rollout-fifo.jsonl")
    (home / "rollout-zero.jsonl").symlink_to("/dev/zero")
    bad_name = os.fsencode(str(home)) + b"/rollout-\xff\xfe.jsonl"
    with open(bad_name, "wb") as f:
        f.write(b"{}\n")
    found = discover([home])
    assert found.files == [good]
    why = dict(found.skipped)
    assert why[str(home / "rollout-a.jsonl")] == "symlink loop"
    assert "not a regular file" in why[str(home / "rollout-fifo.jsonl")]
    assert "not a regular file" in why[str(home / "rollout-zero.jsonl")]
    assert any("not valid UTF-8" in w for w in why.values())


async def test_special_files_are_reported_not_read(tmp_path: Path, store: Store) -> None:
    home = tmp_path / "logs"
    home.mkdir()
    Rollout().write(home, dated=False)
    os.mkfifo(home / "rollout-fifo.jsonl")  # opening it would block forever
    s = await ingest(store, [home])
    assert s.new == 1 and any("not a regular file" in e[1] for e in s.errors)


def test_a_runaway_line_is_skipped_without_holding_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader_mod, "MAX_LINE", 1 << 20)
    import ccl_tui.sources.parse as parse_mod

    monkeypatch.setattr(parse_mod, "MAX_LINE", 1 << 20)
    r = Rollout()
    r.user("before")
    text = r.text()
    after = Rollout(session_id=r.id)
    after.lines = []
    after.user("after")
    bomb = (
        b'{"timestamp":"2026-10-05T09:00:01.000Z","type":"response_item","payload":{"type":"x","v":"'
        + b"A" * (20 << 20)
        + b'"}}\n'
    )
    raw = text.encode() + bomb + after.text().encode()
    path = tmp_path / f"rollout-2026-10-05T09-00-00-{r.id}.jsonl.zst"
    path.write_bytes(zstandard.ZstdCompressor(level=3).compress(raw))
    assert path.stat().st_size < 64 << 10  # a small file that expands twenty megabytes into one line
    res = parse_file(str(path))
    prompts = [row[COL["text"]] for row in res.rows if row[COL["kind"]] == "user_message"]
    assert prompts == ["before", "after"]
    assert [b.reason for b in res.bad] == ["line longer than 1 MiB skipped"]


def test_long_lines_are_read_whole(tmp_path: Path) -> None:
    r = Rollout()
    r.user("x")
    r.exec("cat big.log", "y" * (9 << 20), 0)  # spans three read blocks
    res = parse_file(str(r.write(tmp_path)))
    assert res.bad == [] and any(row[COL["text_size"]] == 9 << 20 for row in res.rows)


def test_truncated_archives_keep_what_decompresses(tmp_path: Path) -> None:
    r = Rollout()
    for i in range(300):
        r.user(f"prompt {i} " + "pad " * 50)
    raw = r.text().encode()
    for suffix, data in (("zst", zstandard.ZstdCompressor().compress(raw)), ("gz", gzip.compress(raw))):
        path = tmp_path / f"rollout-2026-10-05T09-00-00-{r.id}.jsonl.{suffix}"
        path.write_bytes(data[: len(data) * 2 // 3])
        res = parse_file(str(path))
        assert res.session is not None and res.error and "stopped reading after line" in res.error
        kept = sum(1 for row in res.rows if row[COL["kind"]] == "user_message")
        assert kept > 100, (suffix, kept)
        path.unlink()


def test_bom_renamed_file_and_a_newline_written_late(tmp_path: Path) -> None:
    r = Rollout()
    r.user("hello")
    renamed = tmp_path / "rollout-2026-10-05T09-00-00-00000000-0000-4000-8000-000000000000.jsonl"
    renamed.write_bytes(b"\xef\xbb\xbf" + r.text().encode())
    res = parse_file(str(renamed))
    assert res.bad == [] and res.session is not None and res.session.id == r.id  # the meta's id, not the name's

    # a complete record without its newline is read now; the newline and more lines come later
    r2 = Rollout()
    r2.user("one")
    path = tmp_path / r2.file_name()
    path.write_text(r2.text().rstrip("\n"))
    first = parse_file(str(path))
    r2.lines = []
    r2.user("two")
    with path.open("a") as f:
        f.write("\n" + r2.text())
    second = parse_file(str(path), first.end_offset, first.lines, first.state)
    lines = path.read_text().splitlines()
    for row in second.rows:
        assert json.loads(lines[row[COL["line"]] - 1])["type"] == row[COL["raw_type"]].split("/")[0]


async def test_same_folder_relative_and_absolute_is_one_set_of_files(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    Rollout().write(tmp_path / "logs")
    monkeypatch.chdir(tmp_path)
    a = await ingest(store, ["logs"])
    b = await ingest(store, [str(tmp_path / "logs")])
    assert a.new == 1 and b.unchanged == 1 and b.new == 0


async def test_another_session_with_the_same_id_is_kept_apart(tmp_path: Path, store: Store) -> None:
    one = Rollout(session_id="019a0000-aaaa-7bbb-8ccc-000000000042", start="2026-10-01T09:00:00")
    one.user("first session")
    other = Rollout(session_id=one.id, start="2026-10-02T09:00:00", cwd="/elsewhere")
    other.user("a different session that reused the id")
    for _ in range(5):
        other.user("more")  # larger: it used to replace the first
    one.write(tmp_path / "a")
    other.write(tmp_path / "b")
    s = await ingest(store, [tmp_path / "a", tmp_path / "b"])
    assert (await store.counts())["sessions"] == 2
    assert any("also used by" in e[1] for e in s.errors)


def test_unreadable_folders_are_reported(tmp_path: Path) -> None:
    home = tmp_path / "logs"
    (home / "locked").mkdir(parents=True)
    Rollout().write(home / "locked", dated=False)
    os.chmod(home / "locked", 0)
    try:
        if os.access(home / "locked", os.R_OK):
            pytest.skip("running with privileges that ignore folder permissions")
        found = discover([home])
        assert any("cannot read folder" in why for _, why in found.skipped)
    finally:
        os.chmod(home / "locked", 0o755)


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().split(") ", 1)[1].split()[1]) == pid:
                    out.append(int(d.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find worker processes")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_terminal_signals_stop_ingest_and_its_workers(tmp_path: Path, sig: signal.Signals) -> None:
    write_config(PROCESSES_FOR_ANY_SIZE)
    corpus = tmp_path / "corpus"
    _clean(corpus, 400)
    db = tmp_path / "db.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ccl_tui.cli", "--db", str(db), "ingest", str(corpus), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    deadline = time.monotonic() + 30
    workers: list[int] = []
    while time.monotonic() < deadline and proc.poll() is None:
        workers = [
            c
            for c in _children(proc.pid)
            if "multiprocessing" in Path(f"/proc/{c}/cmdline").read_bytes().decode(errors="replace")
        ]
        if workers:
            break
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.skip("the ingest finished before a worker could be seen")
    proc.send_signal(sig)
    assert proc.wait(timeout=30) == 130  # stopped like Ctrl-C, and said so
    time.sleep(0.5)
    assert not [
        w
        for w in workers
        if Path(f"/proc/{w}").exists()
        and "multiprocessing" in Path(f"/proc/{w}/cmdline").read_bytes().decode(errors="replace")
    ]
    assert b"Traceback" not in (proc.stderr.read() if proc.stderr else b"")
    import sqlite3

    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


# ---------------------------------------------------------------------------------------------- fuzz
def _scalars(obj: Any, path: tuple = ()) -> list[tuple]:
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _scalars(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:20]):
            out += _scalars(v, (*path, i))
    else:
        out.append(path)
    return out


def _set(obj: Any, path: tuple, value: Any) -> None:
    for k in path[:-1]:
        obj = obj[k]
    obj[path[-1]] = value


MUTATIONS = (
    "big-int",
    "negative-big-int",
    "string",
    "list",
    "dict",
    "float-huge",
    "nan",
    "null",
    "bool",
    "deep",
    "control-chars",
    "truncate-line",
    "drop-key",
    "surrogate",
)


def _mutate(rng: random.Random, lines: list[str]) -> tuple[list[str], int]:
    i = rng.randrange(1, len(lines)) if len(lines) > 1 else 0  # keep the session header intact
    obj = json.loads(lines[i])
    kind = rng.choice(MUTATIONS)
    if kind == "truncate-line":
        lines[i] = lines[i][: max(1, len(lines[i]) // 2)]
        return lines, i + 1
    paths = [p for p in _scalars(obj) if p]
    if not paths:
        return lines, i + 1
    path = rng.choice(paths)
    value: Any = {
        "big-int": 2**64 - 1,
        "negative-big-int": -(2**70),
        "string": "1.2.3s",
        "list": [1, [2]],
        "dict": {"x": {"y": 1}},
        "float-huge": 1e308,
        "nan": "NaN",
        "null": None,
        "bool": True,
        "deep": _nested(300),
        "control-chars": "\x1b]52;c;ZXZpbA==\x07\x00\x9b2J",
        "surrogate": "\ud800x",
    }.get(kind)
    if kind == "drop-key":
        parent = obj
        for k in path[:-1]:
            parent = parent[k]
        if isinstance(parent, dict):
            del parent[path[-1]]
    else:
        _set(obj, path, copy.deepcopy(value))
    text = json.dumps(obj, ensure_ascii=True)
    if kind == "nan":
        text = text.replace('"NaN"', "NaN", 1)
    lines[i] = text
    return lines, i + 1


def test_fuzz_real_rollouts_no_traceback_and_no_lost_intact_lines(tmp_path: Path) -> None:
    """Seeded and bounded: 240 mutants of the real rollouts, one damaged record each."""
    rng = random.Random(20261129)
    small = [p for p in REAL if p.stat().st_size < 400_000]
    for n in range(240):
        src = rng.choice(small)
        lines = src.read_text(encoding="utf-8").splitlines()
        mutant, damaged = _mutate(rng, list(lines))
        path = tmp_path / f"{n}-{src.name}"
        path.write_text("\n".join(mutant) + "\n", encoding="utf-8")
        original = parse_file(str(src))
        res = parse_file(str(path))  # never raises
        assert res.error is None, (src.name, damaged, res.error)
        before = {(r[COL["line"]], r[COL["raw_type"]]) for r in original.rows if r[COL["line"]] != damaged}
        after = {(r[COL["line"]], r[COL["raw_type"]]) for r in res.rows}
        lost = before - after
        assert not lost, (src.name, damaged, sorted(lost)[:5])
        assert all(b.line == damaged for b in res.bad), (src.name, damaged, [(b.line, b.reason) for b in res.bad])


async def test_fuzz_mutants_store_and_detect(tmp_path: Path, store: Store) -> None:
    """The same mutants through the writer and detection: every file stored, none an error."""
    rng = random.Random(7)
    small = [p for p in REAL if p.stat().st_size < 200_000]
    folder = tmp_path / "mutants"
    folder.mkdir()
    for n in range(60):
        src = rng.choice(small)
        mutant, _ = _mutate(rng, src.read_text(encoding="utf-8").splitlines())
        text = "\n".join(mutant) + "\n"
        first = json.loads(mutant[0])
        old = (first.get("payload") or first).get("id")
        new = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if isinstance(old, str) and old:
            text = text.replace(old, new)
        (folder / f"rollout-2026-10-05T09-00-{n % 60:02d}-{new}.jsonl").write_text(text, encoding="utf-8")
    s = await ingest(store, [folder])
    assert s.files_seen == 60 and not [e for e in s.errors if "not stored" in e[1] or e[0] == "(ingest)"], s.errors
    d = await refresh(store)
    assert d.sessions_detected == (await store.counts())["sessions"]
