"""``ccl-tui ingest``: read rollout files into the store with a live progress bar and a summary."""

from __future__ import annotations

import argparse
import signal
import threading
from dataclasses import asdict

from ccl_tui.commands.common import console, print_json, run_with_store
from ccl_tui.pipeline import DetectSummary, ingest_and_detect, refresh
from ccl_tui.store.db import Store
from ccl_tui.store.ingest import IngestProgress, IngestSummary, ingest


async def run_ingest(
    store: Store,
    paths: list[str] | None,
    *,
    quiet: bool,
    workers: int | None,
    cancel: threading.Event | None = None,
    detect: bool = True,
) -> IngestSummary:
    """Ingest with a progress bar (none when ``quiet``); ``detect``: signals detected as files are read."""
    read = ingest_and_detect if detect else ingest
    if quiet:
        return await read(store, paths, workers=workers, cancel=cancel)
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    con = console(stderr=True)
    with Progress(
        TextColumn("ingest"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[stats]}"),
        TimeElapsedColumn(),
        console=con,
        transient=False,
    ) as bar:
        task = bar.add_task("ingest", total=1, stats="scanning…")

        def on_progress(p: IngestProgress) -> None:
            stats = (
                f"files {p.files_done}/{p.files_total}  {p.bytes_done / 1e6:,.1f}/{p.bytes_total / 1e6:,.1f} MB"
                f"  sessions {p.sessions}  events {p.events:,} ({p.events_per_s:,.0f}/s)"
            )
            bar.update(task, total=max(p.bytes_total, 1), completed=p.bytes_done, stats=stats)

        return await read(store, paths, progress=on_progress, workers=workers, cancel=cancel)


def print_summary(s: IngestSummary) -> None:
    from rich.table import Table
    from rich.text import Text

    con = console()
    t = Table(title="ingest summary", show_header=False, box=None, pad_edge=False)
    t.add_column(style="bold")
    t.add_column()
    rows = [
        ("files seen", s.files_seen),
        ("new", s.new),
        ("updated", f"{s.updated} ({s.reread} re-read from the start)" if s.reread else s.updated),
        ("unchanged", s.unchanged),
        ("duplicates", s.duplicates),
        ("empty", s.empty),
        ("not a rollout", s.unrecognized),
        ("sessions touched", len(s.sessions_touched)),
        ("events added", f"{s.events_added:,}"),
        ("read", f"{s.bytes_read / 1e6:,.1f} MB in {s.elapsed:.2f}s"),
        ("malformed lines skipped", s.malformed),
    ]
    if s.replayed_lines_skipped:
        rows.append(("fork/sub-agent replayed lines skipped", s.replayed_lines_skipped))
    for k, v in rows:
        t.add_row(Text(k), Text(str(v)))
    con.print(t)
    for path, line, reason in s.malformed_examples:
        con.print(Text(f"  skipped {path}:{line}: {reason}"))
    if s.malformed > len(s.malformed_examples):
        con.print(Text(f"  … and {s.malformed - len(s.malformed_examples)} more malformed line(s)"))
    for path in s.pending_partial:
        con.print(Text(f"  {path}: last line still being written; it will be read next time"))
    for path, err in s.errors:
        con.print(Text(f"  error: {path}: {err}", style="red"))


def stop_on_terminal_signals() -> threading.Event:
    """SIGTERM and SIGHUP (the terminal closed) stop an ingest cleanly: no new file is started, the files in
    progress are finished or rolled back, the worker processes are shut down, and the command exits 130. A
    second signal stops it at once, as Ctrl-C does."""
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, on_signal)
    return stop


def cmd_ingest(args: argparse.Namespace) -> int:
    stop = stop_on_terminal_signals()

    async def go(store: Store) -> tuple[IngestSummary, DetectSummary | None]:
        summary = await run_ingest(
            store, args.paths or None, quiet=args.json, workers=args.workers, cancel=stop, detect=not args.no_detect
        )
        detected = None if args.no_detect or summary.cancelled else (await refresh(store)).add_ingest(summary)
        return summary, detected

    summary, detected = run_with_store(args.db, go)
    if args.json and not summary.cancelled:
        print_json({**summary.to_dict(), "detection": asdict(detected) if detected else None})
        return 0
    from rich.text import Text

    if summary.cancelled:
        console(stderr=True).print(
            Text(
                f"interrupted: {summary.new + summary.updated:,} file(s) stored; run the same command again to continue"
            )
        )
        return 130
    print_summary(summary)
    if detected:
        console().print(
            Text(
                f"signals: {detected.signals:,} new/updated ({detected.friction:,} friction, {detected.delight:,} delight)"
                f" in {detected.sessions_detected:,} session(s), {detected.detect_seconds:.2f}s;"
                f" {detected.issues:,} issues ranked. Next: ccl-tui report"
            )
        )
    return 0
