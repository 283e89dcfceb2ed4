"""Importing Harbor results at scale, against a baseline that only reads and decodes the same files.

    python bench/results.py [--trials 5000]

A job folder with N trial result.json files (copies of the bundled demo runs' trials, fresh ids) is imported
into a copy of the demo database; the baseline is a bare loop reading and ``orjson``-decoding the same files.
The ratio (import / baseline) is what to watch: it covers parsing, matching trials to issues and the SQLite
transaction. Then the improvement report over the imported runs, with a fix marked, is timed.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ccl_tui.pipeline import ranked_issues, refresh  # noqa: E402
from ccl_tui.results.api import import_jobs, improvement, mark_fix  # noqa: E402
from ccl_tui.store.db import Store  # noqa: E402
from ccl_tui.store.ingest import ingest  # noqa: E402

DEMO = ROOT / "demo_sessions"


def make_job(folder: Path, n: int) -> list[Path]:
    templates = [orjson.loads(p.read_bytes()) for p in sorted((DEMO / "harbor-jobs").glob("*/*/result.json"))]
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    paths = []
    for i in range(n):
        doc = dict(templates[i % len(templates)])
        doc["id"] = str(uuid.UUID(int=i + 1))
        doc["trial_name"] = f"{doc['task_name'][:32]}__{i:07x}"
        (folder / doc["trial_name"]).mkdir()
        path = folder / doc["trial_name"] / "result.json"
        path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
        paths.append(path)
    return paths


def baseline(paths: list[Path]) -> float:
    t0 = time.perf_counter()
    for p in paths:
        orjson.loads(p.read_bytes())
    return time.perf_counter() - t0


async def run(trials: int) -> None:
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        store = await Store.open(tmp / "bench.sqlite")
        try:
            await ingest(store, [DEMO])
            await refresh(store)
            paths = make_job(tmp / "jobs" / "2026-11-25__10-00-00", trials)
            base = min(baseline(paths) for _ in range(3))
            t0 = time.perf_counter()
            (report,) = await import_jobs(store, tmp / "jobs" / "2026-11-25__10-00-00")
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            await import_jobs(store, tmp / "jobs" / "2026-11-25__10-00-00")
            again = time.perf_counter() - t0
            issues = await ranked_issues(store)
            for issue in issues[:5]:
                await mark_fix(store, issue, "2026-10-26")
            t0 = time.perf_counter()
            rep = await improvement(store, issues)
            imp = time.perf_counter() - t0
        finally:
            await store.close()
        shutil.rmtree(tmp / "jobs", ignore_errors=True)
    print(f"trials: {trials} ({report.added} added, {len(report.unmatched)} unmatched task names)")
    print(f"baseline (read + orjson decode): {base:.3f} s")
    print(f"import:                          {first:.3f} s   ratio {first / base:.1f}")
    print(f"re-import (idempotent):          {again:.3f} s   ratio {again / base:.1f}")
    print(f"improvement report ({len(rep.issues)} issues, 5 fixes): {imp:.3f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=5000)
    asyncio.run(run(ap.parse_args().trials))


if __name__ == "__main__":
    main()
