"""Time helpers working on integer epoch milliseconds, so nothing depends on the host clock or zone database.

Developers of the demo corpus live in Europe/Berlin: file names and date folders use that local time (as Codex
does), envelope and payload timestamps are UTC. The EU DST rule is computed here instead of read from tzdata.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

TIMEZONE = "Europe/Berlin"
#: The corpus calendar: sessions start between FIRST_DAY and LAST_DAY; on FIX_DATE AGENTS.md of the Python
#: repositories starts saying "run `uv sync` first" (a real commit in their histories, gitrepos.py).
FIRST_DAY = date(2026, 9, 28)
LAST_DAY = date(2026, 11, 8)
FIX_DATE = "2026-10-26"
_HOUR_MS = 3_600_000


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def _last_sunday_utc(year: int, month: int) -> int:
    """01:00 UTC on the last Sunday of ``month``: when EU clocks change."""
    day = datetime(year, month + 1, 1, 1, tzinfo=UTC) - timedelta(days=1)
    day -= timedelta(days=(day.weekday() - 6) % 7)
    return to_ms(day)


def utc_offset_hours(ms: int) -> int:
    year = from_ms(ms).year
    summer = _last_sunday_utc(year, 3) <= ms < _last_sunday_utc(year, 10)
    return 2 if summer else 1


def local(ms: int) -> datetime:
    """Naive Europe/Berlin wall-clock time of ``ms``."""
    return from_ms(ms + utc_offset_hours(ms) * _HOUR_MS).replace(tzinfo=None)


def from_local(wall: datetime) -> int:
    """Epoch ms of a naive Europe/Berlin wall-clock time (working hours only, so no DST ambiguity)."""
    guess = to_ms(wall.replace(tzinfo=UTC)) - _HOUR_MS
    return to_ms(wall.replace(tzinfo=UTC)) - utc_offset_hours(guess) * _HOUR_MS


def iso(ms: int) -> str:
    """``2026-10-05T09:14:22.118Z`` (the rollout timestamp format)."""
    return from_ms(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def file_stamp(ms: int) -> str:
    """Local ``2026-10-05T11-14-22`` as used in rollout file names."""
    return local(ms).strftime("%Y-%m-%dT%H-%M-%S")


def local_date(ms: int) -> str:
    return local(ms).strftime("%Y-%m-%d")


def seconds(ms: int) -> int:
    return ms // 1000
