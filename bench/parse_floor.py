"""The floor of `ccl-tui ingest` against the bare orjson loop: the parser alone, with nothing stored or detected.

    python bench/parse_floor.py               # both corpus shapes of bench/ingest.py, 200 MB each
    python bench/parse_floor.py --mb 1000 --shape small

Per corpus, in one process and on warm page-cache files:
  baseline  read every file and orjson-parse every line (what bench/ingest.py compares against)
  parse     ccl_tui.sources.parse.parse_file over every file: decoding plus the normalization into event rows,
            no SQLite, no detection, no ranking
The ratio parse / baseline is what normalization costs per core; halved, it is the best `ccl-tui ingest` could
do on this 2-core machine if storing, detecting and ranking were free and both cores were always busy.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import baseline, corpus  # noqa: E402

from ccl_tui.sources.discover import find_rollouts  # noqa: E402
from ccl_tui.sources.parse import parse_file  # noqa: E402


def parse_all(files: list[Path]) -> float:
    t0 = time.perf_counter()
    for p in files:
        parse_file(str(p))
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--shape", choices=["small", "large", "both"], default="both")
    args = ap.parse_args()
    for shape in ["small", "large"] if args.shape == "both" else [args.shape]:
        files = find_rollouts([corpus(shape, args.mb)])
        baseline(files)  # warm the page cache
        base_t, n_bytes, _ = baseline(files)
        parse_all(files[:50])  # imports and first-call costs out of the measurement
        parse_t = parse_all(files)
        ratio = parse_t / base_t
        print(
            f"{shape} files, {n_bytes / 1e6:,.0f} MB ({len(files):,} files): baseline {base_t:.2f} s, parse only"
            f" {parse_t:.2f} s: ratio {ratio:.1f} on one core, {ratio / 2:.1f} on two at best",
            flush=True,
        )


if __name__ == "__main__":
    main()
