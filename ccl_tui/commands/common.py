"""Shared helpers for commands: opening the store, JSON output, a plain-text console."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson
from rich.console import Console

from ccl_tui.locations import default_db
from ccl_tui.store.db import Store

T = TypeVar("T")


def console(stderr: bool = False) -> Console:
    # markup/highlight off: every string we print may come from an untrusted transcript.
    return Console(stderr=stderr, markup=False, highlight=False, emoji=False)


def db_path(arg: str | None) -> Path:
    return Path(arg).expanduser() if arg else default_db()


def print_json(value: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    sys.stdout.buffer.write(b"\n")
    sys.stdout.flush()


def run_with_store(db: str | None, fn: Callable[[Store], Awaitable[T]]) -> T:
    async def main() -> T:
        store = await Store.open(db_path(db))
        try:
            return await fn(store)
        finally:
            await store.close()

    return asyncio.run(main())
