"""Launch to full ranking in a real terminal: `ccl-tui --sessions DIR` in tmux, against `ccl-tui ingest DIR`.

    python bench/tui_launch.py DIR [DIR ...]      # e.g. folders built by bench/ingest.py (bench/.corpus)

For each folder, with a fresh database each time: the app is started in a detached tmux session (160x48) and
its screen polled with `tmux capture-pane` until the issues table is filled and the status line no longer says
"loading…"; the first frame is the first capture showing the app. The baseline, in the same run, is the
headless `ccl-tui ingest DIR` (ingest + detection + ranking) on the same folder; the ratio is app / baseline.
Needs tmux.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CCL = str(Path(sys.executable).with_name("ccl-tui"))
SESSION = "ccl-bench-launch"


def _screen() -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", SESSION], capture_output=True, text=True).stdout


def time_app(folder: Path, timeout: float) -> tuple[float, float]:
    """(first frame, full ranking) in seconds from launch."""
    with tempfile.TemporaryDirectory() as d:
        env = f"CCL_TUI_DATA_DIR={d}/data"
        cmd = f"{env} {CCL} --sessions '{folder}' --db {d}/db.sqlite"
        subprocess.run(["tmux", "kill-session", "-t", SESSION], stderr=subprocess.DEVNULL)
        t0 = time.monotonic()
        subprocess.run(["tmux", "new-session", "-d", "-s", SESSION, "-x", "160", "-y", "48", cmd], check=True)
        first = None
        try:
            while time.monotonic() - t0 < timeout:
                out = _screen()
                if first is None and "ccl-tui" in out:
                    first = time.monotonic() - t0
                if re.search(r"^ error: ", out, re.M):
                    raise SystemExit(f"the app reported an error:\n{out}")
                if "issue(s) · scope" in out and "loading…" not in out and re.search(r"^\s+1\s+\d", out, re.M):
                    return first or 0.0, time.monotonic() - t0
                time.sleep(0.1)
            raise SystemExit(f"no full ranking after {timeout:.0f} s")
        finally:
            subprocess.run(["tmux", "send-keys", "-t", SESSION, "q"])
            time.sleep(0.5)
            subprocess.run(["tmux", "kill-session", "-t", SESSION], stderr=subprocess.DEVNULL)


def time_cli(folder: Path) -> float:
    with tempfile.TemporaryDirectory() as d:
        t0 = time.monotonic()
        subprocess.run(
            [CCL, "--db", f"{d}/db.sqlite", "ingest", str(folder), "--json"],
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "CCL_TUI_DATA_DIR": f"{d}/data"},
        )
        return time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--timeout", type=float, default=900)
    args = ap.parse_args()
    if not shutil.which("tmux"):
        raise SystemExit("needs tmux")
    print(
        f"{'folder':<28} {'MB':>7} {'files':>7} {'first frame':>12} {'app: ranking':>13} {'ingest CLI':>11} {'ratio':>6}"
    )
    for folder in args.folders:
        files = [p for p in folder.rglob("*") if p.is_file()]
        mb = sum(p.stat().st_size for p in files) / 1e6
        first, ranked = time_app(folder, args.timeout)
        cli = time_cli(folder)
        print(
            f"{str(folder)[-28:]:<28} {mb:>7,.0f} {len(files):>7,} {first:>11.2f}s {ranked:>12.1f}s "
            f"{cli:>10.1f}s {ranked / cli:>6.2f}"
        )


if __name__ == "__main__":
    main()
