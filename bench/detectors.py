"""Per-detector precision and recall over the labelled gold set, and detection speed on the demo corpus.

    python bench/detectors.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ccl_tui.config.settings import Settings  # noqa: E402
from ccl_tui.pipeline import detect_pending_sync  # noqa: E402
from ccl_tui.signals.gold import score  # noqa: E402
from ccl_tui.store.db import Store  # noqa: E402
from ccl_tui.store.ingest import ingest  # noqa: E402


def gold() -> None:
    report = score(ROOT / "tests" / "gold")
    print(f"{'detector':<24}{'cases':>6}{'tp':>5}{'fp':>5}{'fn':>5}{'precision':>11}{'recall':>8}")
    for kind, s in sorted(report.by_kind.items()):
        print(f"{kind:<24}{s.cases:>6}{s.tp:>5}{s.fp:>5}{s.fn:>5}{s.precision:>11.2f}{s.recall:>8.2f}")
    wrong = [c for c in report.cases if c.found != c.expected]
    for c in wrong:
        print(f"  mismatch {c.name}: expected {sorted(c.expected)} found {sorted(c.found)}")


async def _ingest(db: Path, corpus: Path) -> float:
    store = await Store.open(db)
    try:
        t0 = time.perf_counter()
        await ingest(store, [corpus])
        return time.perf_counter() - t0
    finally:
        await store.close()


def speed() -> None:
    corpus = ROOT / "demo_sessions"
    if not corpus.is_dir():
        print("demo_sessions/ not found: skipping the speed measurement")
        return
    with tempfile.TemporaryDirectory() as td:
        db = Path(td) / "bench.sqlite"
        ingest_s = asyncio.run(_ingest(db, corpus))
        t0 = time.perf_counter()
        s = detect_pending_sync(str(db), Settings())
        total = time.perf_counter() - t0
    print(f"\ndemo corpus: ingest {ingest_s:.2f}s; detection over {s.sessions_detected} sessions: "
          f"{s.detect_seconds:.3f}s detect + {s.rank_seconds:.3f}s rank = {total:.3f}s "
          f"({s.signals} signals, {s.issues} issues)")


if __name__ == "__main__":
    gold()
    speed()
