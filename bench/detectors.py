"""Per-detector precision and recall on the two gold sets, and detection speed on the demo corpus.

    python bench/detectors.py

* real: files Codex itself wrote (tests/fixtures/codex_real and codex_samples), annotated by reading their raw
  lines (tests/gold/real/*.json); the signals a correct detector must give follow from those facts by fixed
  rules (ccl_tui.signals.gold.expected_from_annotation), never from a detector.
* claude: files Claude Code wrote (tests/fixtures/claude_real), annotated the same way (tests/gold/claude);
  the expected signals follow from the facts by ccl_tui.signals.gold.expected_from_claude.
* synthetic: small files in Codex's format written by tests/gold/make_gold.py, one rule each, positives and
  near-miss negatives. They agree with the detectors by construction; the real set is the one that measures.
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
from ccl_tui.signals.gold import GoldReport, real_mismatches, score, score_claude, score_real  # noqa: E402
from ccl_tui.store.db import Store  # noqa: E402
from ccl_tui.store.ingest import ingest  # noqa: E402


def table(title: str, report: GoldReport) -> None:
    print(f"\n{title}")
    print(f"{'detector':<24}{'cases':>6}{'tp':>5}{'fp':>5}{'fn':>5}{'precision':>11}{'recall':>8}")
    tp = fp = fn = 0
    for kind, s in sorted(report.by_kind.items()):
        if s.tp + s.fp + s.fn == 0:
            continue
        tp, fp, fn = tp + s.tp, fp + s.fp, fn + s.fn
        print(f"{kind:<24}{s.cases:>6}{s.tp:>5}{s.fp:>5}{s.fn:>5}{s.precision:>11.2f}{s.recall:>8.2f}")
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    print(f"{'all':<24}{len(report.cases):>6}{tp:>5}{fp:>5}{fn:>5}{p:>11.2f}{r:>8.2f}")


def gold() -> None:
    real_dir = ROOT / "tests" / "gold" / "real"
    table(
        f"REAL gold set: {len(list(real_dir.glob('*.json')))} rollouts Codex wrote, labelled from their raw lines",
        score_real(real_dir),
    )
    for annotation in sorted(real_dir.glob("*.json")):
        m = real_mismatches(annotation)
        for x in m["missing"]:
            print(f"  missed  {annotation.stem}: {x}")
        for x in m["extra"]:
            print(f"  extra   {annotation.stem}: {x}")
    claude_dir = ROOT / "tests" / "gold" / "claude"
    claude = score_claude(claude_dir)
    table(f"CLAUDE CODE gold set: {len(claude.cases)} files Claude Code wrote, labelled from their raw lines", claude)
    for case in claude.cases:
        for kind, line in sorted(case.expected - case.found):
            print(f"  missed  {case.name}: {kind} line:{line}")
        for kind, line in sorted(case.found - case.expected):
            print(f"  extra   {case.name}: {kind} line:{line}")
    synthetic = score(ROOT / "tests" / "gold")
    table(
        f"SYNTHETIC gold set: {len(synthetic.cases)} generated cases (agree with the rules by construction)", synthetic
    )
    wrong = [c for c in synthetic.cases if c.found != c.expected]
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
    print(
        f"\ndemo corpus: ingest {ingest_s:.2f}s; detection over {s.sessions_detected} sessions: "
        f"{s.detect_seconds:.3f}s detect + {s.rank_seconds:.3f}s rank = {total:.3f}s "
        f"({s.signals} signals, {s.issues} issues)"
    )


if __name__ == "__main__":
    gold()
    speed()
