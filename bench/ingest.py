"""What a user waits for: `ccl-tui ingest` (ingest + detection + ranking) against a bare orjson line loop.

    python bench/ingest.py                        # both corpus shapes, 200 MB each (cached in bench/.corpus)
    python bench/ingest.py --mb 1000 --shape small
    python bench/ingest.py PATH                   # any folder of rollouts (e.g. ~/.codex)
    python bench/ingest.py --json                 # one JSON object per corpus (for the README table)

Corpus shapes, built from files Codex and Claude Code wrote and cloned under fresh session ids (line sizes,
record mix and JSON shapes are the agents' own); Codex clones go under codex/sessions/, Claude Code clones
under claude/projects/:
  small  many small files: the real samples plus the demo corpus (avg ~30 KB), as in a long-used ~/.codex, and
         the real Claude Code files of tests/fixtures/claude_real
  large  few large files: only the real rollouts and Claude Code files of 100 KB and more in tests/fixtures

Per corpus, in the same run and on warm page-cache files:
  baseline   read every file and orjson-parse every line, nothing else (one process)
  command    `ccl-tui ingest --json` into a fresh database: parse, store, detect, rank (what users run)
  no-detect  `ccl-tui ingest --json --no-detect` into another fresh database
  rerun      `ccl-tui ingest --json` again on the command's database, nothing changed
  append     one file grows by a few lines, then `ccl-tui ingest --json`
Ratios are against the baseline (goal: command <= 2.0). Peak RSS is the most the command's process tree
(the CLI and its worker processes) held at once, sampled from /proc every 20 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ccl_tui.sources.discover import find_rollouts  # noqa: E402
from ccl_tui.sources.reader import open_stream  # noqa: E402

SAMPLES = ROOT / "tests" / "fixtures" / "codex_samples"
REAL = ROOT / "tests" / "fixtures" / "codex_real"
CLAUDE = ROOT / "tests" / "fixtures" / "claude_real"
DEMO = ROOT / "demo_sessions"
LARGE_MIN = 100_000


def _session_id(raw: bytes) -> str | None:
    for line in raw.split(b"\n", 5)[:5]:
        first = orjson.loads(line) if line.strip() else None
        if not isinstance(first, dict):
            continue
        sid = first.get("sessionId") or first.get("payload", first).get("id")  # Claude Code, Codex
        if isinstance(sid, str):
            return sid
    return None


def templates(shape: str = "small") -> list[tuple[str, bytes, str]]:
    """(session id, file bytes, agent) of the files a corpus of ``shape`` is cloned from."""
    claude = sorted(CLAUDE.glob("*.jsonl"))
    if shape == "large":
        paths = [p for d in (SAMPLES, REAL) for p in sorted(d.glob("*.jsonl"))]
        paths += claude
        paths = [p for p in paths if p.stat().st_size >= LARGE_MIN]
    else:
        paths = sorted(SAMPLES.glob("*.jsonl"))
        if DEMO.is_dir():
            paths += [p for p in find_rollouts([DEMO]) if p.name.endswith(".jsonl")]
        paths += claude
    out = []
    for p in paths:
        raw = p.read_bytes()
        sid = _session_id(raw)
        if sid:
            out.append((sid, raw, "claude_code" if p.parent == CLAUDE else "codex"))
    return out


def build_corpus(dest: Path, target_mb: int, shape: str = "small") -> None:
    tmpl = templates(shape)
    total = 0
    i = 0
    while total < target_mb * 1_000_000:
        sid, raw, agent = tmpl[i % len(tmpl)]
        new = str(uuid.UUID(int=(i + 1) * 0x9E3779B97F4A7C15 % (1 << 128)))
        day = 1 + i % 28
        data = raw.replace(sid.encode(), new.encode())
        if agent == "claude_code":
            d = dest / "claude" / "projects" / f"-home-dev-project-{day:02d}"
            name = f"{new}.jsonl"
        else:
            d = dest / "codex" / "sessions" / "2026" / "10" / f"{day:02d}"
            name = f"rollout-2026-10-{day:02d}T10-00-{i % 60:02d}-{new}.jsonl"
        d.mkdir(parents=True, exist_ok=True)
        (d / name).write_bytes(data)
        total += len(data)
        i += 1


def corpus(shape: str, mb: int) -> Path:
    root = ROOT / "bench" / ".corpus" / (f"mixed-{mb}mb" if shape == "small" else f"mixed-{shape}-{mb}mb")
    if not root.exists():
        print(f"building a {mb} MB {shape}-file corpus in {root} …", file=sys.stderr, flush=True)
        tmp = root.with_suffix(".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        build_corpus(tmp, mb, shape)
        tmp.rename(root)
    return root


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


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants (Linux /proc), in KiB."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, ()))
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def run_cli(args: list[str]) -> tuple[float, int, dict[str, Any]]:
    """Run ``ccl-tui ARGS``; returns (wall seconds, peak RSS of its process tree in MB, its JSON output)."""
    cmd = [sys.executable, "-m", "ccl_tui.cli", *args]
    env = {**os.environ, "CCL_TUI_CONFIG": os.devnull}
    peak = 0
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kb(proc.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {err.decode(errors='replace')[-2000:]}")
    return wall, peak // 1024, json.loads(out)


def measure(root: Path, label: str) -> dict[str, Any]:
    files = find_rollouts([root])
    claude = [p for p in files if "projects" in p.parts]
    claude_mb = sum(p.stat().st_size for p in claude) / 1e6
    baseline(files)  # warm the page cache: both sides measure CPU work, not the disk
    base_t, n_bytes, n_lines = baseline(files)
    mb = n_bytes / 1e6
    with tempfile.TemporaryDirectory() as td:
        db = str(Path(td) / "command.sqlite")
        cmd_t, cmd_rss, cmd_out = run_cli(["ingest", "--json", "--db", db, str(root)])
        nd_t, nd_rss, _ = run_cli(["ingest", "--json", "--no-detect", "--db", str(Path(td) / "nd.sqlite"), str(root)])
        rerun_t, _, _ = run_cli(["ingest", "--json", "--db", db, str(root)])
        # One session grows by a copy of its own last lines: only the new bytes are read, one session detected.
        grown = max(files, key=lambda p: p.stat().st_mtime_ns)
        tail = b"\n".join(grown.read_bytes().rstrip(b"\n").split(b"\n")[-3:]) + b"\n"
        copy = Path(td) / "corpus-copy"
        shutil.copytree(root, copy)
        db2 = str(Path(td) / "append.sqlite")
        run_cli(["ingest", "--json", "--db", db2, str(copy)])
        target = copy / grown.relative_to(root)
        with target.open("ab") as f:
            f.write(tail)
        app_t, _, app_out = run_cli(["ingest", "--json", "--db", db2, str(copy)])
        db_mb = Path(db).stat().st_size / 1e6
    ingest = cmd_out
    detect = cmd_out.get("detection") or {}
    app_ing = app_out
    return {
        "corpus": label,
        "files": len(files),
        "claude_code_files": len(claude),
        "claude_code_mb": round(claude_mb, 1),
        "mb": round(mb, 1),
        "lines": n_lines,
        "events": ingest.get("events_added"),
        "baseline_s": round(base_t, 3),
        "command_s": round(cmd_t, 3),
        "command_ratio": round(cmd_t / base_t, 2),
        "no_detect_s": round(nd_t, 3),
        "no_detect_ratio": round(nd_t / base_t, 2),
        "peak_rss_mb": cmd_rss,
        "no_detect_peak_rss_mb": nd_rss,
        "rerun_unchanged_s": round(rerun_t, 3),
        "append_s": round(app_t, 3),
        "append_bytes_read": app_ing.get("bytes_read"),
        "append_sessions_detected": (app_out.get("detection") or {}).get("sessions_detected"),
        "sessions_detected": detect.get("sessions_detected"),
        "issues": detect.get("issues"),
        "db_mb": round(db_mb, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("path", nargs="?", type=Path, help="a folder of rollouts instead of the built corpora")
    ap.add_argument("--mb", type=int, default=200, help="corpus size to build (default 200)")
    ap.add_argument("--shape", choices=["small", "large", "both"], default="both")
    ap.add_argument("--json", action="store_true", help="print one JSON object per corpus")
    args = ap.parse_args()
    if args.path is not None:
        targets = [(args.path, str(args.path))]
    else:
        shapes = ["small", "large"] if args.shape == "both" else [args.shape]
        targets = [(corpus(s, args.mb), f"{s} files, {args.mb} MB") for s in shapes]
    for root, label in targets:
        r = measure(root, label)
        if args.json:
            print(json.dumps(r), flush=True)
            continue
        mb = r["mb"]
        print(f"corpus            {label}: {r['files']:,} files, {mb:,.1f} MB, {r['lines']:,} lines")
        print(f"  Claude Code share {r['claude_code_files']:,} files, {r['claude_code_mb']:,.1f} MB")
        print(f"baseline (orjson) {r['baseline_s']:7.2f} s   {mb / r['baseline_s']:7.1f} MB/s")
        print(
            f"ccl-tui ingest    {r['command_s']:7.2f} s   {mb / r['command_s']:7.1f} MB/s   ratio {r['command_ratio']:5.2f}"
            f" (goal <= 2.0)   peak RSS {r['peak_rss_mb']} MB   {r['events']:,} events, {r['issues']} issues"
        )
        print(
            f"  --no-detect     {r['no_detect_s']:7.2f} s   {mb / r['no_detect_s']:7.1f} MB/s   ratio {r['no_detect_ratio']:5.2f}"
            f"                 peak RSS {r['no_detect_peak_rss_mb']} MB"
        )
        print(f"  re-run, unchanged  {r['rerun_unchanged_s']:.2f} s")
        print(
            f"  one file appended  {r['append_s']:.2f} s   ({r['append_bytes_read']} bytes read,"
            f" {r['append_sessions_detected']} session re-detected)"
        )
        print(f"  database          {r['db_mb']:,.1f} MB", flush=True)


if __name__ == "__main__":
    main()
