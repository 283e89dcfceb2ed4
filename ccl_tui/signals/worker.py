"""Detection next to the parser: a whole file's events are in memory right after parsing, so its signals are
computed there (in the ingest worker process, in parallel with the other files) instead of being read back
from SQLite later. The writer stores them in the same transaction as the events they point at.

Only a file read from its start carries signals: a file continued from a byte offset holds only its new
events, so its session is detected from the store afterwards (``pipeline.detect_pending_sync``), as is any
session the writer ends up storing under another id or not at all (a duplicate copy, an id clash).
"""

from __future__ import annotations

from ccl_tui.config.settings import Settings, SignalThresholds
from ccl_tui.model.events import events_from_rows
from ccl_tui.signals.version import DETECTOR_VERSION
from ccl_tui.sources.parse import FileParse, parse_file


def fingerprint(settings: Settings) -> str:
    """What stored signals were computed with: the detector version and the thresholds' hash."""
    return f"v{DETECTOR_VERSION}-{settings.fingerprint()}"


def parse_and_detect(
    path: str, offset: int, start_line: int, state: bytes | None, thresholds: SignalThresholds, fp: str
) -> FileParse:
    """:func:`ccl_tui.sources.parse.parse_file`, plus the signals of the file's session when it was read whole."""
    from ccl_tui.signals.detect import detect_session

    parse = parse_file(path, offset, start_line, state)
    s = parse.session
    if s is not None and parse.full:
        parse.signals = detect_session(s.id, events_from_rows(parse.rows), thresholds, s.origin)
        parse.fingerprint = fp
    return parse
