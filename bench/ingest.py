"""Ingest throughput against a bare orjson line-parse loop over the same files, in the same process.

    python bench/ingest.py                 # builds a >= 200 MB corpus from real rollouts (cached in bench/.corpus)
    python bench/ingest.py PATH [--mb N]   # or measure any folder of rollouts (e.g. ~/.codex)

The corpus clones the real Codex files in tests/fixtures/codex_samples (and the demo corpus when present)
under fresh session ids, so line sizes, record mix and JSON shapes are exactly Codex's. The baseline reads
every file and orjson-parses every line, nothing else; the ratio is full ingest time / baseline time
(goal: <= 2.0). Both runs read warm page-cache files.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ccl_tui.sources.discover import find_rollouts  # noqa: E402
from ccl_tui.sources.reader import open_stream  # noqa: E402
from ccl_tui.store.db import Store  # noqa: E402
from ccl_tui.store.ingest import ingest  # noqa: E402

SAMPLES = ROOT / "tests" / "fixtures" / "codex_samples"
DEMO = ROOT / "demo_sessions"


def templates() -> list[tuple[str, bytes]]:
    out = []
    for p in sorted(SAMPLES.glob("*.jsonl")):
        raw = p.read_bytes()
        sid = orjson.loads(raw.split(b"\n", 1)[0])["payload"]["id"]
        out.append((sid, raw))
    for p in find_rollouts([DEMO]) if DEMO.is_dir() else []:
        if p.name.endswith(".jsonl"):
            raw = p.read_bytes()
            first = orjson.loads(raw.split(b"\n", 1)[0])
            sid = first.get("payload", first).get("id")
            if sid:
                out.append((sid, raw))
    return out


def build_corpus(dest: Path, target_mb: int) -> None:
    tmpl = templates()
    total = 0
    i = 0
    while total < target_mb * 1_000_000:
        sid, raw = tmpl[i % len(tmpl)]
        new = str(uuid.UUID(int=(i + 1) * 0x9E3779B97F4A7C15 % (1 << 128)))
        day = 1 + i % 28
        d = dest / "sessions" / "2026" / "10" / f"{day:02d}"
        d.mkdir(parents=True, exist_ok=True)
        data = raw.replace(sid.encode(), new.encode())
        (d / f"rollout-2026-10-{day:02d}T10-00-{i % 60:02d}-{new}.jsonl").write_bytes(data)
        total += len(data)
        i += 1


def baseline(files: list[Path]) -> tuple[float, int, int]:
    t0 = time.perf_counter()
    n_bytes = n_lines = 0
    loads = orjson.loads
    for p in files:
        stream, _ = open_stream(p)
        with stream:
            data = stream.read()
        n_bytes += len(data)
        for line in data.split(b"\n"):
            if line:
                loads(line)
                n_lines += 1
    return time.perf_counter() - t0, n_bytes, n_lines


async def full_ingest(files_root: Path, db: Path, workers: int | None) -> tuple[float, int, int]:
    store = await Store.open(db)
    try:
        t0 = time.perf_counter()
        s = await ingest(store, [files_root], workers=workers)
        return time.perf_counter() - t0, s.events_added, len(s.sessions_touched)
    finally:
        await store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", nargs="?", type=Path)
    ap.add_argument("--mb", type=int, default=200, help="corpus size to build (default 200)")
    ap.add_argument("--workers", type=int, default=None, help="parser processes (default: CPU count)")
    args = ap.parse_args()
    root = args.path
    if root is None:
        root = ROOT / "bench" / ".corpus" / f"rollouts-{args.mb}mb"
        if not root.exists():
            print(f"building a {args.mb} MB corpus in {root} …", flush=True)
            tmp = root.with_suffix(".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            build_corpus(tmp, args.mb)
            tmp.rename(root)
    files = find_rollouts([root])
    # Warm the page cache so both runs measure CPU work, not the disk.
    base_t, n_bytes, n_lines = baseline(files)
    base_t, n_bytes, n_lines = baseline(files)
    mb = n_bytes / 1e6
    with tempfile.TemporaryDirectory() as td:
        ing_t, events, sessions = asyncio.run(full_ingest(root, Path(td) / "bench.sqlite", args.workers))
        db_mb = sum(f.stat().st_size for f in Path(td).iterdir()) / 1e6
    print(f"corpus            {len(files)} files, {mb:,.1f} MB, {n_lines:,} lines")
    print(f"baseline (orjson) {base_t:6.2f} s   {mb / base_t:7.1f} MB/s")
    print(
        f"full ingest       {ing_t:6.2f} s   {mb / ing_t:7.1f} MB/s   {events:,} events, {sessions:,} sessions,"
        f" db {db_mb:,.1f} MB, workers={args.workers or os.cpu_count()}"
    )
    print(f"ratio             {ing_t / base_t:6.2f}   (goal <= 2.0)")


if __name__ == "__main__":
    main()
