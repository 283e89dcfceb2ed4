"""Read rollout files as complete JSON lines, from a byte offset, tolerating every kind of bad input.

- ``.jsonl.zst`` (or zstd magic) is decompressed as a stream; ``.jsonl.gz`` from user tooling too.
- A last line without ``\\n`` that does not parse yet is *pending*: Codex is still writing it. It is not
  consumed; the returned offset stops before it so the next ingest reads it whole.
- A malformed line in the middle is skipped and reported with its line number; invalid UTF-8 is replaced and
  lone surrogate escapes are neutralized instead of failing the line.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import orjson

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"
BLOCK = 4 << 20
#: Longest line read (bytes). Codex lines with images or huge outputs reach tens of MB; past this a line is
#: skipped and reported, never held in memory.
MAX_LINE = 128 << 20
_BOM = b"\xef\xbb\xbf"
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


@dataclass(slots=True)
class BadLine:
    line: int
    reason: str
    excerpt: str


@dataclass(slots=True)
class ReadResult:
    """What a pass over a file produced besides the records themselves."""

    end_offset: int = 0  # byte offset after the last consumed line (in decompressed bytes for .zst)
    lines: int = 0  # number of lines consumed (complete, incl. blank/bad ones)
    pending_bytes: int = 0  # size of a trailing partial line left for next time
    compressed: bool = False


def is_compressed(path: Path, head: bytes) -> str | None:
    if head.startswith(ZSTD_MAGIC) or path.name.endswith(".zst"):
        return "zstd"
    if head.startswith(GZIP_MAGIC) or path.name.endswith(".gz"):
        return "gzip"
    return None


class _Decompressor(Protocol):
    """What the streams use of ``zstandard``'s decompress object and ``zlib``'s."""

    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes, /) -> bytes: ...


class ZstdStream(io.RawIOBase):
    """Decompress concatenated zstd frames; unlike ``stream_reader`` a truncated last frame is an error."""

    def __init__(self, raw: BinaryIO) -> None:
        import zstandard

        self._zstd = zstandard
        self._raw = raw
        self._dobj: _Decompressor = zstandard.ZstdDecompressor().decompressobj()
        self._buf = bytearray()
        self._eof = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not self._eof and (size < 0 or len(self._buf) < size):
            chunk = self._raw.read(BLOCK)
            if not chunk:
                self._eof = True
                self._truncated = self._started and not self._dobj.eof
                break
            self._feed(chunk)
        if not self._buf and self._truncated:
            raise EOFError("compressed stream is truncated (file still being written or damaged)")
        n = len(self._buf) if size < 0 else min(size, len(self._buf))
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    _started = False
    _truncated = False

    def _feed(self, chunk: bytes) -> None:
        while chunk:
            self._started = True
            self._buf += self._dobj.decompress(chunk)
            if not self._dobj.eof:
                return
            chunk = self._dobj.unused_data
            self._dobj = self._zstd.ZstdDecompressor().decompressobj()
            self._started = bool(chunk)

    def close(self) -> None:
        self._raw.close()
        super().close()


class GzipStream(ZstdStream):
    """Decompress concatenated gzip members the same way: everything before a truncation is returned first,
    then the truncation is an error (``gzip.GzipFile`` drops the data it decoded in the failing read)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._dobj = zlib.decompressobj(wbits=31)
        self._buf = bytearray()
        self._eof = False

    def _feed(self, chunk: bytes) -> None:
        while chunk:
            self._started = True
            self._buf += self._dobj.decompress(chunk)
            if not self._dobj.eof:
                return
            chunk = self._dobj.unused_data
            self._dobj = zlib.decompressobj(wbits=31)
            self._started = bool(chunk)


def open_stream(path: Path) -> tuple[BinaryIO, str | None]:
    f = path.open("rb")
    head = f.read(4)
    f.seek(0)
    kind = is_compressed(path, head)
    if kind == "zstd":
        return ZstdStream(f), kind  # type: ignore[return-value]  # a RawIOBase reader; typeshed does not call it BinaryIO
    if kind == "gzip":
        return GzipStream(f), kind  # type: ignore[return-value]
    return f, None


def parse_line(raw: bytes) -> Any:
    """Parse one JSON line; raises ValueError with a short reason when it cannot be read."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as first:
        fixed = _LONE_SURROGATE.sub(rb"\\ufffd", raw)
        try:
            return orjson.loads(fixed.decode("utf-8", "replace"))
        except orjson.JSONDecodeError:
            raise ValueError(str(first).split(":", 1)[0] or "invalid JSON") from None


def iter_lines(
    stream: BinaryIO,
    result: ReadResult,
    *,
    start_offset: int = 0,
    start_line: int = 0,
    final: bool = False,
    max_line: int | None = None,
) -> Iterator[tuple[int, bytes | None]]:
    """Yield ``(line_number, raw_bytes)`` for complete lines from ``start_offset``.

    ``final`` marks an immutable file (compressed archive): its unterminated tail is treated as a last line
    rather than left pending. ``result`` is updated as lines are consumed. A line longer than ``max_line``
    bytes (default :data:`MAX_LINE`) is yielded as ``None`` (skip and report it): its bytes are discarded as
    they stream past, so a decompression bomb or a runaway line costs time, never memory. Long lines are
    assembled from their blocks once (linear, however many blocks they span). A UTF-8 byte order mark at
    the start of the file is dropped.
    """
    limit = MAX_LINE if max_line is None else max_line
    after_unterminated = False
    if start_offset:
        if stream.seekable():
            # The last pass may have consumed a complete record whose newline was not written yet: the
            # newline that follows now ends that record, it is not a line of its own.
            stream.seek(start_offset - 1)
            after_unterminated = stream.read(1) != b"\n"
            stream.seek(start_offset)
        else:  # decompression stream: skip forward
            remaining = start_offset
            while remaining:
                chunk = stream.read(min(remaining, BLOCK))
                if not chunk:
                    break
                remaining -= len(chunk)
    offset = start_offset
    line_no = start_line
    pieces: list[bytes] = []  # the current line's bytes so far (blocks it spans)
    size = 0  # its length
    oversized = False  # longer than the limit: its bytes are being dropped
    result.end_offset = offset
    result.lines = line_no
    first = start_offset == 0
    while True:
        block = stream.read(BLOCK)
        if not block:
            break
        start = 0
        while True:
            nl = block.find(b"\n", start)
            piece = block[start:] if nl < 0 else block[start:nl]
            if not oversized:
                if size + len(piece) > limit:
                    oversized = True
                    pieces.clear()
                else:
                    pieces.append(piece)
            size += len(piece)
            if nl < 0:
                break
            offset += size + 1
            start = nl + 1
            if after_unterminated:
                after_unterminated = False
                if size == 0:  # just the newline of the record consumed last time
                    pieces.clear()
                    result.end_offset = offset
                    continue
            line_no += 1
            raw = None if oversized else (pieces[0] if len(pieces) == 1 else b"".join(pieces))
            if first and raw is not None and raw.startswith(_BOM):
                raw = raw[len(_BOM) :]
            first = False
            pieces, size, oversized = [], 0, False
            result.end_offset = offset
            result.lines = line_no
            yield line_no, raw
    if not size:
        return
    if oversized:
        if final:
            line_no += 1
            result.end_offset = offset + size
            result.lines = line_no
            yield line_no, None
        else:
            result.pending_bytes = size
        return
    carry = b"".join(pieces)
    if first and carry.startswith(_BOM):
        carry = carry[len(_BOM) :]
    tail = carry.strip()
    if not tail:
        result.end_offset = offset + size
        return
    complete = final
    if not complete and tail[:1] == b"{":
        try:
            complete = isinstance(orjson.loads(tail), dict)
        except orjson.JSONDecodeError:
            complete = False
    if complete:
        # A whole record whose newline has not been written yet: consume it. When the newline follows,
        # the next pass recognises it as this record's end (see ``after_unterminated``).
        line_no += 1
        result.end_offset = offset + size
        result.lines = line_no
        yield line_no, carry
    else:
        result.pending_bytes = size
