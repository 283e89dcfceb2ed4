"""Helpers for Pilot tests: a prepared demo database, the screen as plain text, waiting for the loader."""

from __future__ import annotations

import asyncio
import io
import shutil
from collections.abc import Container
from pathlib import Path

from rich.console import Console
from textual.app import App
from textual.pilot import Pilot

from ccl_tui.pipeline import refresh
from ccl_tui.store.db import Store
from ccl_tui.store.ingest import ingest
from ccl_tui.tui.app import CclApp, make_app
from ccl_tui.tui.hub import Source

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo_sessions"


async def build_db(db: Path, corpus: Path = DEMO) -> None:
    store = await Store.open(db)
    try:
        await ingest(store, [corpus])
        await refresh(store)
    finally:
        await store.close()


def copy_db(src: Path, dst: Path) -> Path:
    shutil.copy(src, dst)
    for suffix in ("-wal", "-shm"):
        side = Path(str(src) + suffix)
        if side.exists():
            shutil.copy(side, Path(str(dst) + suffix))
    return dst


def app_for(
    db: Path, corpus: Path = DEMO, *, demo: bool = False, note: str | None = None, theme: str | None = None
) -> CclApp:
    return make_app(source=Source((corpus,), db, note=note, generated=corpus == DEMO), demo=demo, theme=theme)


def screen_text(app: App) -> str:
    """What the terminal shows, as plain text (same path as App.export_screenshot)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


async def wait_loaded(pilot: Pilot, timeout: float = 60) -> None:
    app = pilot.app
    assert isinstance(app, CclApp)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while app.hub.state.loading and loop.time() < deadline:
        await asyncio.sleep(0.05)
    assert not app.hub.state.loading, "data did not finish loading"
    await settle(pilot)


async def settle(pilot: Pilot, timeout: float = 30, *, ignore: Container[str] = ()) -> None:
    """Wait until no worker is running (exclusive workers may cancel each other: that is fine), but those of
    the ``ignore`` groups (e.g. "load" while a test holds the load)."""
    app = pilot.app
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout

    def running() -> list[str]:
        return [w.name for w in app.workers if w.is_running and w.group not in ignore]

    while loop.time() < deadline:
        await pilot.pause()
        if not running():
            await pilot.pause()
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"workers still running: {running()}")
