"""Parse one rollout file (or the part of it added since last time) into rows ready for the store.

This is a plain function of its arguments so it can run in a worker process: the result holds only
picklable values (tuples, dataclasses, bytes).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ccl_tui.model.events import EVENT_COLUMNS, Session
from ccl_tui.model.signals import Signal, signal_from_dict
from ccl_tui.sources.reader import MAX_LINE, BadLine, ReadResult, iter_lines, open_stream, parse_line

HEAD_BYTES = 4096
#: Bump whenever parsing changes what is stored: files read by an older parser are read again from the start.
PARSER_VERSION = 2


@dataclass
class FileParse:
    path: str
    size: int = 0
    mtime_ns: int = 0
    head_hash: str = ""
    compressed: str | None = None
    full: bool = True  # parsed from the start (replace) rather than continued (append)
    session: Session | None = None
    rows: list[tuple] = field(default_factory=list)
    bad: list[BadLine] = field(default_factory=list)
    end_offset: int = 0
    lines: int = 0
    pending_bytes: int = 0
    state: bytes = b""
    error: str | None = None
    skipped_replay: int = 0
    #: Signals detected next to the parser from a whole file's events (None: not detected here; the
    #: pipeline detects from the store later), with the fingerprint of the detector and thresholds used.
    signals: list[Signal] | None = None
    fingerprint: str = ""
    #: The session aggregates of ``rows`` (:func:`aggregates`), computed where the rows were parsed.
    aggregates: tuple[Any, ...] | None = None


def head_hash(path: Path | str, length: int = HEAD_BYTES) -> str:
    with open(path, "rb") as f:
        return hashlib.blake2b(f.read(length), digest_size=12).hexdigest()


def parse_file(path: str, offset: int = 0, start_line: int = 0, state: bytes | None = None) -> FileParse:
    """Parse ``path`` from ``offset`` (continuing ``state``), never raising for bad content."""
    # The rollout parser is imported by the first file parsed: a re-run with nothing to read never loads it.
    from ccl_tui.sources.rollout import ParseState, RolloutParser

    p = Path(path)
    res = FileParse(path=path, full=offset == 0)
    try:
        st = os.stat(p)
        res.size, res.mtime_ns = st.st_size, st.st_mtime_ns
        res.head_hash = head_hash(p)
        stream, res.compressed = open_stream(p)
    except FileNotFoundError:
        res.error = "file disappeared before it could be read"
        return res
    except OSError as exc:
        res.error = f"cannot open: {exc.strerror or exc}"
        return res
    if res.compressed and offset:
        offset, start_line, state, res.full = 0, 0, None, True  # archives are re-read whole
    parser = RolloutParser(p.name, path, ParseState.from_json(state) if state and offset else None)
    read = ReadResult(compressed=bool(res.compressed))
    feed = parser.feed
    bad = res.bad
    try:
        with stream:
            for line_no, raw in iter_lines(
                stream, read, start_offset=offset, start_line=start_line, final=bool(res.compressed)
            ):
                if raw is None:
                    bad.append(BadLine(line_no, f"line longer than {MAX_LINE >> 20} MiB skipped", ""))
                    continue
                if not raw or raw.isspace():
                    continue
                try:
                    obj = parse_line(raw)
                except ValueError as exc:
                    excerpt = raw[:120].decode("utf-8", "replace")
                    bad.append(BadLine(line_no, f"invalid JSON ({exc})", excerpt))
                    continue
                try:
                    feed(line_no, obj)
                except Exception as exc:  # a record of a shape no parser rule expected: it alone is lost
                    excerpt = raw[:120].decode("utf-8", "replace")
                    bad.append(BadLine(line_no, f"record not understood ({type(exc).__name__}: {exc})"[:200], excerpt))
    except FileNotFoundError:
        res.error = "file disappeared while it was being read"
        return res
    except OSError as exc:
        res.error = f"read error: {exc}"
        return res
    except Exception as exc:  # corrupt or truncated zstd/gzip stream, etc.: keep what was read, report the rest
        res.error = f"stopped reading after line {read.lines}: {type(exc).__name__}: {exc}"
    session = parser.snapshot_session()
    res.session = session
    res.end_offset, res.lines, res.pending_bytes = read.end_offset, read.lines, read.pending_bytes
    res.state = parser.state.to_json()
    res.skipped_replay = parser.state.skipped_replay
    if session is not None:
        res.rows = parser.take_rows()
        res.aggregates = aggregates(res.rows)
    return res


_KIND, _TURN, _DATA = (EVENT_COLUMNS.index(c) for c in ("kind", "turn", "data"))


def aggregates(rows: list[tuple]) -> tuple[int, int, int, int, int | None, int | None, int | None]:
    """(events, turns, user messages, tool calls, tokens total, context window, largest input) of ``rows``."""
    turns = users = calls = 0
    total = window = peak = None
    for r in rows:
        kind = r[_KIND]
        if r[_TURN] > turns:
            turns = r[_TURN]
        if kind == "user_message":
            users += 1
        elif kind == "tool_call":
            calls += 1
        elif (kind == "token_count" or kind == "turn_started") and r[_DATA]:
            d = orjson.loads(r[_DATA])
            w = d.get("window") or d.get("model_context_window")
            if isinstance(w, int) and (window is None or w > window):
                window = w
            t, i = d.get("total"), d.get("input")
            if isinstance(t, int) and (total is None or t > total):
                total = t
            if isinstance(i, int) and (peak is None or i > peak):
                peak = i
    return len(rows), turns, users, calls, total, window, peak


def to_wire(res: FileParse) -> bytes:
    """A parse result as one JSON blob: crossing a process boundary this way costs a fraction of pickle."""
    return orjson.dumps(
        {
            "path": res.path,
            "size": res.size,
            "mtime_ns": res.mtime_ns,
            "head_hash": res.head_hash,
            "compressed": res.compressed,
            "full": res.full,
            "session": res.session,
            "rows": res.rows,
            "bad": res.bad,
            "end_offset": res.end_offset,
            "lines": res.lines,
            "pending_bytes": res.pending_bytes,
            "state": res.state.decode(),
            "error": res.error,
            "skipped_replay": res.skipped_replay,
            "signals": res.signals,
            "fingerprint": res.fingerprint,
            "aggregates": res.aggregates,
        }
    )


def from_wire(blob: bytes) -> FileParse:
    d = orjson.loads(blob)
    d["session"] = Session(**d["session"]) if d["session"] else None
    d["bad"] = [BadLine(**b) for b in d["bad"]]
    d["state"] = d["state"].encode()
    if d["aggregates"] is not None:
        d["aggregates"] = tuple(d["aggregates"])
    if d["signals"] is not None:
        d["signals"] = [signal_from_dict(x) for x in d["signals"]]
    return FileParse(**d)


def parse_file_wire(path: str, offset: int = 0, start_line: int = 0, state: bytes | None = None) -> bytes:
    """:func:`parse_file` for a worker process: the result serialized with :func:`to_wire`."""
    return to_wire(parse_file(path, offset, start_line, state))


#: What turns one file (from a byte offset, with saved parser state) into a FileParse: :func:`parse_file`,
#: or a function that also analyzes the result (``ccl_tui.signals.worker``). Called as
#: ``fn(path, offset, start_line, state, *extra)``; it must be a module-level function (worker processes
#: receive it by name).
ParseFn = Callable[..., FileParse]


def run_wire(
    fn: ParseFn, extra: tuple[Any, ...], path: str, offset: int, start_line: int, state: bytes | None
) -> bytes:
    """``fn`` in a worker process, its result serialized with :func:`to_wire`."""
    return to_wire(fn(path, offset, start_line, state, *extra))
