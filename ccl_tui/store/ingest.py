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
import contextlib
import multiprocessing
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from multiprocessing import resource_tracker
from pathlib import Path
from typing import Any

from ccl_tui.config.settings import IngestSettings, load_settings
from ccl_tui.sources.discover import discover
from ccl_tui.sources.parse import HEAD_BYTES, PARSER_VERSION, ParseFn, head_hash, parse_file, parse_file_wire, run_wire
from ccl_tui.store.db import FileMark, FileRecord, Store
from ccl_tui.store.progress import IngestProgress
from ccl_tui.store.writer import FileOutcome, close_connections, ingest_file, write_wire


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
    sessions_detected: int = 0  # sessions whose signals were detected next to the parser and stored with them
    signals_per_kind: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["sessions_touched"] = len(self.sessions_touched)
        return d

    def problems(self, limit: int = 3) -> list[str]:
        """What went wrong, one short line each (ingest-wide notes first), for a UI that cannot list all."""
        errors = sorted(self.errors, key=lambda e: e[0] != "(ingest)")
        lines = [msg if where == "(ingest)" else f"{Path(where).name}: {msg}" for where, msg in errors[:limit]]
        if len(errors) > limit:
            lines.append(f"… and {len(errors) - limit} more file error(s)")
        if self.malformed:
            lines.append(f"{self.malformed:,} malformed line(s) skipped")
        return lines


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


@dataclass(slots=True)
class _Known:
    """A file read before whose fate needs more than its marks: a changed file (``duplicate`` False), or an
    unchanged duplicate copy (read again when the file that holds its session has gone)."""

    path: str
    size: int
    session_id: str | None
    duplicate: bool


def plan_jobs(files: Iterable[Path | str], marks: dict[str, FileMark], summary: IngestSummary) -> list[_Job | _Known]:
    """First pass, per file: new or read by an older parser (a job), unchanged (counted, nothing to do), or
    known and needing its full record (:class:`_Known`, settled by :func:`settle_jobs`). In file order."""
    planned: list[_Job | _Known] = []
    stat = os.stat
    for p in files:
        path = os.fspath(p)
        summary.files_seen += 1
        try:
            st = stat(path)
        except OSError as exc:
            summary.errors.append((path, f"cannot stat: {exc.strerror or exc}"))
            continue
        mark = marks.get(path)
        if mark is None or mark[2] == "error":
            planned.append(_Job(path, st.st_size))
            continue
        size, mtime_ns, status, parser, session_id = mark
        if parser != PARSER_VERSION:
            planned.append(_Job(path, st.st_size, known=True))  # read by an older parser: read it again
        elif size != st.st_size or mtime_ns != st.st_mtime_ns:
            planned.append(_Known(path, st.st_size, session_id, duplicate=False))
        elif status == "duplicate":
            planned.append(_Known(path, st.st_size, session_id, duplicate=True))
        else:
            summary.unchanged += 1
    return planned


def settle_jobs(
    planned: list[_Job | _Known], records: dict[str, FileRecord], owners: dict[str, str], summary: IngestSummary
) -> list[_Job]:
    """Second pass: a changed file continues from its offset when it grew (same first bytes) and is read
    again otherwise; an unchanged duplicate copy whose owner has gone (Codex moved the file to
    archived_sessions/) is read again so it takes the session over. ``records``: the full records of the
    changed files; ``owners``: session id -> file, for the duplicates."""
    jobs: list[_Job] = []
    for item in planned:
        if isinstance(item, _Job):
            jobs.append(item)
            continue
        path = item.path
        if item.duplicate:
            owner = owners.get(item.session_id or "")
            if owner and not os.path.exists(owner):
                jobs.append(_Job(path, item.size, known=True))
            else:
                summary.unchanged += 1
            continue
        rec = records.get(path)
        grown = (
            rec is not None
            and item.size > rec.size
            and not rec.compressed
            and rec.status in ("ok", "empty")
            and rec.offset <= item.size
            and _same_head(path, rec)
        )
        if rec is not None and grown:
            jobs.append(_Job(path, item.size, rec.offset, rec.lines, rec.state, known=True))
        else:
            jobs.append(_Job(path, item.size, known=True))
    return jobs


def _same_head(p: Path | str, rec: FileRecord) -> bool:
    """The bytes we already read are still there: the file grew rather than being rewritten."""
    try:
        return head_hash(p, min(rec.size, HEAD_BYTES)) == rec.head_hash
    except OSError:
        return False


def _executor(jobs: list[_Job], workers: int | None, settings: IngestSettings) -> tuple[Executor, int]:
    """Worker processes parse (and detect) big jobs, one per core, while one thread of this process writes:
    parsing and detection are most of the work, and the writer waits on them. Small jobs run in one thread,
    since below ``process_threshold_mb`` worker processes cost more to start than they save."""
    total = sum(j.to_read for j in jobs)
    cores = workers if workers is not None else (settings.workers or os.cpu_count() or 1)
    if cores > 1 and len(jobs) > 1 and total >= settings.process_threshold_mb * (1 << 20):
        n = cores
        return start_processes(n), n
    return _one_thread(), 1


def _fallback_note(exc: BaseException) -> str:
    if isinstance(exc, BrokenProcessPool):
        why = "a worker process died"
    else:
        why = f"they could not start: {type(exc).__name__}: {exc}"
    return f"worker processes failed ({why}); continued in one thread"


def _one_thread() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="ccl-ingest")


def _usable_fd(stream: Any) -> bool:
    try:
        return int(stream.fileno()) >= 0
    except Exception:
        return False


_tracker_lock = threading.Lock()


def start_processes(n: int) -> ProcessPoolExecutor:
    """A pool of ``n`` spawned worker processes that starts cleanly inside any host, the TUI included.

    multiprocessing's resource tracker hands ``sys.stderr.fileno()`` to its child process. Inside a running
    Textual app (and textual-serve) ``sys.stderr`` is a capture object whose ``fileno()`` is -1, so the first
    spawn failed with "bad value(s) in fds_to_keep". The tracker is started here, once, with a real
    descriptor: the null device when the host has no usable stderr. The workers then inherit only the
    descriptors multiprocessing passes them explicitly plus 0-2; when the host's stderr is captured, their
    stdout/stderr go to the null device so nothing a worker prints lands on the app's screen.
    spawn, not fork: fork would copy locks held by the host's other threads.
    """
    quiet = not _usable_fd(sys.stderr)
    with _tracker_lock:
        if quiet:
            with open(os.devnull, "w") as null, contextlib.redirect_stderr(null):
                resource_tracker.ensure_running()
        else:
            resource_tracker.ensure_running()
    return ProcessPoolExecutor(
        max_workers=n,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_init,
        initargs=(quiet,),
    )


def _worker_init(quiet: bool) -> None:
    """Worker initializer. Linux: the worker dies with its parent, however the parent ends (a SIGKILL leaves
    no worker, and so no resource tracker, holding the parent's pipes). ``quiet``: stdout and stderr go to
    the null device (the host's terminal belongs to its UI)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    if quiet:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)


async def ingest(
    store: Store,
    paths: Iterable[Path | str] | None = None,
    *,
    progress: Callable[[IngestProgress], None] | None = None,
    workers: int | None = None,
    cancel: threading.Event | None = None,
    parse: ParseFn = parse_file,
    extra: tuple[Any, ...] = (),
) -> IngestSummary:
    """Ingest rollout files found under ``paths`` (default: ``$CODEX_HOME``) into ``store``.

    ``workers`` overrides the ``[ingest] workers`` setting (CPU cores to use; 1: no worker processes).
    ``parse`` / ``extra``: what reads one file (:data:`~ccl_tui.sources.parse.ParseFn`); the pipeline passes
    one that also detects signals, so they are stored with the events."""
    t0 = time.perf_counter()
    loop = asyncio.get_running_loop()
    summary = IngestSummary()
    found = await loop.run_in_executor(None, discover, list(paths) if paths else None)
    files = found.paths
    summary.errors.extend(found.skipped)
    # An unchanged re-run reads only the marks of the files (size, mtime, ...); the rest of a record is read for
    # the files that changed, and the owners of sessions for the duplicate copies.
    marks = await store.file_marks()
    planned = await loop.run_in_executor(None, plan_jobs, files, marks, summary)
    changed = [k.path for k in planned if isinstance(k, _Known) and not k.duplicate]
    records = await store.file_records(changed, with_state=False) if changed else {}
    dup_ids = [k.session_id for k in planned if isinstance(k, _Known) and k.duplicate and k.session_id]
    owners = await store.session_files(dup_ids) if dup_ids else {}
    jobs = await loop.run_in_executor(None, settle_jobs, planned, records, owners, summary)
    continued = [j for j in jobs if j.offset]
    if continued:  # files that grew continue from their saved parser state
        states = await store.file_states([j.path for j in continued])
        for j in continued:
            j.state = states.get(j.path)
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
    try:
        executor, n = _executor(jobs, workers, load_settings().ingest)
    except Exception as exc:  # the host cannot start processes at all
        executor, n = _one_thread(), 1
        summary.errors.append(("(ingest)", _fallback_note(exc)))
    # With worker processes, parsed files come back as compact JSON blobs and this single thread writes
    # them: one writer, no lock contention, parsing of the next files overlapping each write.
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ccl-writer")
    in_flight: deque[tuple[_Job, Future[Any]]] = deque()
    pending = deque(jobs)

    def fall_back(exc: BaseException, requeue: list[_Job]) -> None:
        """Worker processes could not start or died: finish in one thread of this process, and say so.

        Every file is its own transaction, so re-running the unfinished ones is safe."""
        nonlocal executor, n
        executor.shutdown(wait=False, cancel_futures=True)
        executor, n = _one_thread(), 1
        summary.errors.append(("(ingest)", _fallback_note(exc)))
        pending.extendleft(reversed(requeue + [j for j, _ in in_flight]))
        in_flight.clear()

    try:
        while pending or in_flight:
            processes = isinstance(executor, ProcessPoolExecutor)
            while pending and len(in_flight) < 8 * n and not (cancel and cancel.is_set()):
                job = pending.popleft()
                args = (job.path, job.offset, job.start_line, job.state)
                if not processes:
                    in_flight.append((job, executor.submit(ingest_file, db_path, *args, parse, extra)))
                    continue
                try:
                    # The pool spawns its processes on submit: a host that cannot spawn fails right here.
                    fut: Future[Any]
                    if parse is parse_file and not extra:
                        fut = executor.submit(parse_file_wire, *args)
                    else:
                        fut = executor.submit(run_wire, parse, extra, *args)
                    in_flight.append((job, fut))
                except Exception as exc:
                    fall_back(exc, [job])
                    break
            if not in_flight:
                if pending and not (cancel and cancel.is_set()):
                    continue  # just fell back to a thread: submit the requeued files there
                break
            job, fut = in_flight.popleft()
            try:
                result: Any = await asyncio.wrap_future(fut)
                if processes:
                    result = await loop.run_in_executor(writer, write_wire, db_path, result)
                outcome: FileOutcome = result
            except BrokenProcessPool as exc:
                # A worker died (killed, out of memory) or could not start.
                fall_back(exc, [job])
                continue
            except Exception as exc:  # this file alone: every other file is its own transaction
                outcome = FileOutcome(job.path, "error", error=f"not ingested: {type(exc).__name__}: {exc}"[:300])
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
    except BaseException:
        # Stopped from outside (Ctrl-C, SIGTERM, SIGHUP, a cancelled task): the workers are ended, not
        # waited for; the file being written is rolled back by its transaction.
        if isinstance(executor, ProcessPoolExecutor):
            _terminate(executor)
        raise
    finally:
        # Files not started are dropped; the writers then commit their last batch (every file in it is whole)
        # and close. A thread pool runs its close after the file in progress, so it must not be cancelled.
        for _, f in in_flight:
            f.cancel()
        threads = isinstance(executor, ThreadPoolExecutor)
        if threads:
            executor.submit(close_connections)
        executor.shutdown(wait=True, cancel_futures=not threads)
        writer.submit(close_connections)
        writer.shutdown(wait=True)
    summary.sessions_touched = list(touched)
    summary.elapsed = time.perf_counter() - t0
    return summary


def _terminate(executor: ProcessPoolExecutor) -> None:
    """End a pool's worker processes now (a process still starting would otherwise print a traceback when
    its parent goes away)."""
    for proc in list(getattr(executor, "_processes", {}).values()):
        with contextlib.suppress(Exception):
            proc.terminate()
    executor.shutdown(wait=False, cancel_futures=True)


def _account(job: _Job, outcome: FileOutcome, summary: IngestSummary, touched: dict[str, None]) -> None:
    if outcome.error:
        summary.errors.append((job.path, outcome.error))
    if outcome.clash:
        summary.errors.append((job.path, outcome.clash))
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
    if outcome.detected is not None:
        summary.sessions_detected += 1
        for kind, n in outcome.detected.items():
            summary.signals_per_kind[kind] = summary.signals_per_kind.get(kind, 0) + n
