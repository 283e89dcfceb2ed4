"""kill -9 in the middle of an ingest leaves a consistent database; a rerun equals a clean ingest."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.builders import Rollout

CONTENT_SQL = {
    "events": "SELECT s.id, e.seq, e.kind, e.raw_type, e.line, e.ts, e.turn, e.call_id, e.tool, e.command, e.workdir,"
    " e.exit_code, e.duration_ms, e.success, e.status, e.text, e.text_size, e.data"
    " FROM events e JOIN sessions s ON s.sid = e.sid ORDER BY s.id, e.seq",
    "sessions": "SELECT id, file, era, started_at, ended_at, cwd, repo, origin, model, events, turns, user_messages,"
    " tool_calls, tokens_total FROM sessions ORDER BY id",
    "files": "SELECT path, session_id, status, size, offset, lines, malformed FROM files ORDER BY path",
}


def make_corpus(root: Path, n: int) -> None:
    for i in range(n):
        r = Rollout(
            start=f"2026-10-{1 + i % 28:02d}T{8 + i % 10:02d}:{i % 60:02d}:{(i * 7) % 60:02d}",
            cwd=f"/home/dev/src/repo{i % 7}",
        )
        for t in range(12):
            r.user(f"task {i}.{t}: make the tests pass " + "context " * 40)
            r.exec(f"pytest -q tests/test_{t}.py", "F" * 200 + "\n" + "traceback line\n" * 60, t % 3)
            r.patch(f"src/mod{t}.py", ok=t % 4 != 0)
            r.tokens(1000 * t, 5000 * t)
            r.assistant("did the thing " * 20)
            r.complete()
        r.write(root)


def dump(db: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(db)
    try:
        return {k: con.execute(q).fetchall() for k, q in CONTENT_SQL.items()}
    finally:
        con.close()


def ingest_cmd(db: Path, corpus: Path) -> list[str]:
    return [sys.executable, "-m", "ccl_tui.cli", "ingest", "--db", str(db), "--json", "--workers", "1", str(corpus)]


def files_done(db: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)
        try:
            return con.execute("SELECT COUNT(*) FROM files").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def test_kill_mid_ingest_then_rerun_equals_clean(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    n = 240
    make_corpus(corpus, n)
    crashed = tmp_path / "crashed.sqlite"
    proc = subprocess.Popen(ingest_cmd(crashed, corpus), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while files_done(crashed) < n // 5 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "ingest finished before it could be killed"
    partial = files_done(crashed)
    assert 0 < partial < n
    # Whatever was committed is internally consistent: every file row's session has all its events.
    con = sqlite3.connect(crashed)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    bad = con.execute(
        "SELECT COUNT(*) FROM sessions s WHERE events != (SELECT COUNT(*) FROM events e WHERE e.sid = s.sid)"
    ).fetchone()[0]
    orphan = con.execute(
        "SELECT COUNT(*) FROM events WHERE sid NOT IN"
        " (SELECT s.sid FROM sessions s JOIN files f ON f.session_id = s.id)"
    ).fetchone()[0]
    con.close()
    assert bad == 0 and orphan == 0
    # Rerun finishes the job; the result is exactly a clean ingest.
    subprocess.run(ingest_cmd(crashed, corpus), check=True, capture_output=True)
    clean = tmp_path / "clean.sqlite"
    subprocess.run(ingest_cmd(clean, corpus), check=True, capture_output=True)
    a, b = dump(crashed), dump(clean)
    assert len(b["sessions"]) == n
    assert a == b
