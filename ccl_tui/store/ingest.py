"""Incremental ingest: rollout files -> events in the store, one transaction per file.

* Unchanged files (same size and mtime) are skipped without being opened.
* A file that grew (same first bytes) continues from its saved byte offset and parser state.
* A file that shrank or was rewritten, and any compressed file that changed, is re-read from the start.
* Parsing runs in worker processes for big jobs (threads for small ones) while this coroutine writes, so
  the caller's event loop (the TUI) never blocks. Killing the process at any moment leaves the database
  consistent: a file's events, session row and offset are committed together or not at all.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ccl_tui.sources.discover import find_rollouts
from ccl_tui.sources.parse import HEAD_BYTES, head_hash, parse_file_wire
from ccl_tui.store.db import FileRecord, Store
from ccl_tui.store.progress import IngestProgress
from ccl_tui.store.writer import FileOutcome, close_connections, ingest_file, write_wire

#: Below this many bytes to read, worker processes cost more to start than they save.
PROCESS_THRESHOLD = 48 << 20


@dataclass
class IngestSummary:
    files_seen: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    reread: int = 0  # known files that shrank or were rewritten, read again from the start
    duplicates: int = 0
    empty: int = 0
    unrecognized: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    malformed: int = 0
    malformed_examples: list[tuple[str, int, str]] = field(default_factory=list)
    pending_partial: list[str] = field(default_factory=list)
    replayed_lines_skipped: int = 0
    sessions_touched: list[str] = field(default_factory=list)
    events_added: int = 0
    bytes_read: int = 0
    elapsed: float = 0.0
    cancelled: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["sessions_touched"] = len(self.sessions_touched)
        return d


@dataclass(slots=True)
class _Job:
    path: str
    size: int
    offset: int = 0
    start_line: int = 0
    state: bytes | None = None
    known: bool = False  # the store has seen this file before

    @property
    def to_read(self) -> int:
        return max(self.size - self.offset, 0)


def plan_jobs(
    files: Iterable[Path], records: dict[str, FileRecord], owners: dict[str, str], summary: IngestSummary
) -> list[_Job]:
    """Decide, per file, whether to skip it, continue it from its offset, or read it from the start.

    ``owners`` maps session ids to the file their events came from; a duplicate copy whose owner has gone
    (Codex moved the file to archived_sessions/) is read again so it takes the session over.
    """
    jobs: list[_Job] = []
    for p in files:
        path = str(p)
        summary.files_seen += 1
        try:
            st = os.stat(p)
        except OSError as exc:
            summary.errors.append((path, f"cannot stat: {exc.strerror or exc}"))
            continue
        rec = records.get(path)
        if rec is None or rec.status == "error":
            jobs.append(_Job(path, st.st_size))
            continue
        if rec.size == st.st_size and rec.mtime_ns == st.st_mtime_ns:
            owner = owners.get(rec.session_id or "")
            if rec.status == "duplicate" and owner and not os.path.exists(owner):
                jobs.append(_Job(path, st.st_size, known=True))
            else:
                summary.unchanged += 1
            continue
        grown = (
            st.st_size > rec.size
            and not rec.compressed
            and rec.status in ("ok", "empty")
            and rec.offset <= st.st_size
            and _same_head(p, rec)
        )
        if grown:
            jobs.append(_Job(path, st.st_size, rec.offset, rec.lines, rec.state, known=True))
        else:
            jobs.append(_Job(path, st.st_size, known=True))
    return jobs


def _same_head(p: Path, rec: FileRecord) -> bool:
    """The bytes we already read are still there: the file grew rather than being rewritten."""
    try:
        return head_hash(p, min(rec.size, HEAD_BYTES)) == rec.head_hash
    except OSError:
        return False


def _executor(jobs: list[_Job], workers: int | None) -> tuple[Executor, int]:
    """Worker processes parse big jobs (one thread of this process writes); small jobs run in one thread."""
    total = sum(j.to_read for j in jobs)
    cores = workers if workers is not None else (os.cpu_count() or 1)
    if cores > 1 and len(jobs) > 1 and total >= PROCESS_THRESHOLD:
        # One core stays with the writer thread here; the others parse. spawn: safe from a threaded host
        # process (the TUI), where fork would copy locks held by other threads.
        n = cores - 1
        return ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn")), n
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="ccl-ingest"), 1


async def ingest(
    store: Store,
    paths: Iterable[Path | str] | None = None,
    *,
    progress: Callable[[IngestProgress], None] | None = None,
    workers: int | None = None,
    cancel: threading.Event | None = None,
) -> IngestSummary:
    """Ingest rollout files found under ``paths`` (default: ``$CODEX_HOME``) into ``store``."""
    t0 = time.perf_counter()
    loop = asyncio.get_running_loop()
    summary = IngestSummary()
    files = await loop.run_in_executor(None, find_rollouts, list(paths) if paths else None)
    records = await store.file_records()
    owners = await store.session_files()
    jobs = await loop.run_in_executor(None, plan_jobs, files, records, owners, summary)
    prog = IngestProgress(files_total=len(jobs), bytes_total=sum(j.to_read for j in jobs))
    touched: dict[str, None] = {}
    if progress:
        progress(prog)
    if not jobs:
        summary.elapsed = time.perf_counter() - t0
        return summary
    if str(store.path) == ":memory:":
        raise ValueError("ingest needs an on-disk database (writers use their own connections)")
    db_path = str(store.path)
    executor, n = _executor(jobs, workers)
    # With worker processes, parsed files come back as compact JSON blobs and this single thread writes
    # them: one writer, no lock contention, parsing of the next files overlapping each write.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ccl-writer")
    in_flight: deque[tuple[_Job, Future[Any]]] = deque()
    pending = deque(jobs)
    try:
        while pending or in_flight:
            processes = isinstance(executor, ProcessPoolExecutor)
            while pending and len(in_flight) < 8 * n and not (cancel and cancel.is_set()):
                job = pending.popleft()
                args = (job.path, job.offset, job.start_line, job.state)
                fut = executor.submit(parse_file_wire, *args) if processes else executor.submit(
                    ingest_file, db_path, *args
                )
                in_flight.append((job, fut))
            if not in_flight:
                break
            job, fut = in_flight.popleft()
            try:
                result = await asyncio.wrap_future(fut)
                if processes:
                    result = await loop.run_in_executor(writer, write_wire, db_path, result)
                outcome: FileOutcome = result
            except BrokenProcessPool:
                # A worker died (killed, out of memory, or the host cannot spawn): finish in this process.
                # Every file is its own transaction, so re-running the unfinished ones is safe.
                executor.shutdown(wait=False, cancel_futures=True)
                executor, n = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ccl-ingest"), 1
                summary.errors.append(("(ingest)", "worker processes failed; continued in one thread"))
                pending.extendleft(reversed([job] + [j for j, _ in in_flight]))
                in_flight.clear()
                continue
            _account(job, outcome, summary, touched)
            prog.files_done += 1
            prog.bytes_done += job.to_read
            prog.events = summary.events_added
            prog.sessions = len(touched)
            prog.malformed = summary.malformed
            prog.elapsed = time.perf_counter() - t0
            prog.last_session_id = outcome.session_id or prog.last_session_id
            if progress:
                progress(prog)
            if cancel and cancel.is_set():
                summary.cancelled = True
                for _, f in in_flight:
                    f.cancel()
                in_flight.clear()
                pending.clear()
    finally:
        if isinstance(executor, ThreadPoolExecutor):
            executor.submit(close_connections)
        executor.shutdown(wait=True, cancel_futures=True)
        writer.submit(close_connections)
        writer.shutdown(wait=True)
    summary.sessions_touched = list(touched)
    summary.elapsed = time.perf_counter() - t0
    return summary


def _account(job: _Job, outcome: FileOutcome, summary: IngestSummary, touched: dict[str, None]) -> None:
    if outcome.error:
        summary.errors.append((job.path, outcome.error))
    status = outcome.status
    if status == "error":
        return
    summary.bytes_read += job.to_read
    summary.malformed += len(outcome.bad)
    summary.replayed_lines_skipped += outcome.skipped_replay
    for b in outcome.bad[: max(0, 20 - len(summary.malformed_examples))]:
        summary.malformed_examples.append((job.path, b.line, b.reason))
    if outcome.pending_bytes:
        summary.pending_partial.append(job.path)
    if status == "duplicate":
        summary.duplicates += 1
    elif status == "empty":
        summary.empty += 1
    elif status == "unrecognized":
        summary.unrecognized += 1
    elif job.known:
        summary.updated += 1
        if job.offset == 0:
            summary.reread += 1
    else:
        summary.new += 1
    if outcome.session_id and status != "duplicate":
        summary.events_added += outcome.events_added
        touched[outcome.session_id] = None
