"""Key-to-repaint latency of the TUI with Pilot, on a large store vs a small one (same process).

    python bench/tui.py [--issues 10000] [--events 100000]

Builds a synthetic corpus in the real rollout format with ~N distinct failure signatures (N issues) and
~M events, plus one very long session, then measures (p50/p95 over many presses): moving in the issues
table, sorting, searching, opening an issue, opening the long transcript, and n/p/paging inside it.
The same script on a 100-issue store gives the baseline; the ratio shows how latency scales.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from textual.pilot import Pilot  # noqa: E402

from ccl_tui.tui.app import make_app  # noqa: E402
from ccl_tui.tui.hub import Source  # noqa: E402
from ccl_tui.tui.screens.transcript import TranscriptScreen  # noqa: E402
from tests.builders import Rollout  # noqa: E402
from tests.tui_support import build_db, settle, wait_loaded  # noqa: E402

PROGRAMS = ["pytest", "cargo test", "go test ./...", "npx tsc --noEmit", "npm run build", "make check"]


def _letters(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 26)
        out = chr(97 + r) + out
        if n == 0:
            return out


def make_corpus(root: Path, issues: int, events: int) -> None:
    """Sessions whose failures carry ``issues`` distinct error classes; about ``events`` events in all."""
    per_session = 5
    sessions = max(issues // per_session, 1)
    fillers = max((events // sessions - per_session * 6) // 4, 0)
    n = 0
    for s in range(sessions):
        r = Rollout(
            start=f"2026-10-{1 + s % 28:02d}T{8 + s % 10:02d}:{(s // 10) % 60:02d}:{s % 60:02d}",
            cwd=f"/home/dev/src/repo{s % 40}",
        )
        r.user(f"task {s}: make the build green")
        for _ in range(per_session):
            prog = PROGRAMS[n % len(PROGRAMS)]
            module = "mod_" + _letters(n)  # module names survive masking: one signature per module
            r.exec(f"{prog} --case {n}", f"E   ModuleNotFoundError: No module named '{module}'\n", 1)
            n += 1
        for f in range(fillers):
            r.exec(f"sed -n '{f},{f + 20}p' src/mod{f}.py", "line\n" * 5, 0)
        r.assistant("done")
        r.complete()
        r.write(root)
    long = Rollout(start="2026-10-30T09:00:00", cwd="/home/dev/src/monorepo")
    for t in range(400):
        long.user(f"step {t}")
        for k in range(10):
            long.exec(f"pytest -q tests/test_{t}_{k}.py", "F" * 80 + "\n" + "trace line\n" * 30, 1 if k == 9 else 0)
        long.assistant("next")
        long.complete()
    long.write(root)


async def timed(pilot: Pilot, action: Callable[[], Awaitable[None]], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await action()
        await pilot.pause()
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def measure(db: Path, corpus: Path) -> dict[str, list[float]]:
    app = make_app(source=Source((corpus,), db))
    results: dict[str, list[float]] = {}
    t0 = time.perf_counter()
    async with app.run_test(size=(140, 42)) as pilot:
        results["first paint"] = [(time.perf_counter() - t0) * 1000]
        await wait_loaded(pilot)
        results["issues: down"] = await timed(pilot, lambda: pilot.press("down"), 60)
        results["issues: sort (s)"] = await timed(pilot, lambda: pilot.press("s"), 5)
        await pilot.press("slash")
        results["issues: search keystroke"] = await timed(pilot, lambda: pilot.press("1"), 4)
        await pilot.press("escape", "escape")
        await settle(pilot)

        async def open_issue() -> None:
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("escape")

        results["open issue"] = await timed(pilot, open_issue, 5)
        sessions = await app.hub.store.sessions()
        big = max(sessions, key=lambda s: s.events)

        async def open_transcript() -> None:
            app.push_screen(TranscriptScreen(big.id, big.events // 2))
            await settle(pilot)

        results["open transcript (long session)"] = await timed(pilot, open_transcript, 1)
        results["transcript: down"] = await timed(pilot, lambda: pilot.press("down"), 60)
        results["transcript: pagedown"] = await timed(pilot, lambda: pilot.press("pagedown"), 30)
        results["transcript: n (next signal)"] = await timed(pilot, lambda: pilot.press("n"), 30)
        results["meta"] = [float(big.events), float(len(await app.hub.issues()))]
    return results


def p(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def run(issues: int, events: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as td:
        corpus = Path(td) / "corpus"
        make_corpus(corpus, issues, events)
        db = Path(td) / "bench.sqlite"
        t0 = time.perf_counter()
        await build_db(db, corpus)
        print(f"  built store for {issues:,} issues / {events:,} events in {time.perf_counter() - t0:.1f}s", flush=True)
        return await measure(db, corpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--issues", type=int, default=10_000)
    ap.add_argument("--events", type=int, default=100_000)
    args = ap.parse_args()
    print("baseline (100 issues, 2,000 events):")
    base = asyncio.run(run(100, 2_000))
    print(f"large ({args.issues:,} issues, {args.events:,} events):")
    big = asyncio.run(run(args.issues, args.events))
    print(f"\nlong session: {big['meta'][0]:,.0f} events; issues in the table: {big['meta'][1]:,.0f}")
    print(f"{'measure (ms)':<34}{'p50':>8}{'p95':>8}{'base p50':>10}{'ratio':>7}")
    for key, values in big.items():
        if key == "meta":
            continue
        b = p(base[key], 50)
        print(f"{key:<34}{p(values, 50):>8.1f}{p(values, 95):>8.1f}{b:>10.1f}{p(values, 50) / b if b else 0:>7.2f}")


if __name__ == "__main__":
    main()
