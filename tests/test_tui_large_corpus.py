"""Large folders inside the running app: ingest's worker processes start from within Textual, or fall back.

Above ``[ingest] process_threshold_mb`` (48 MiB) ingest parses in spawned worker processes. Inside a running Textual app
``sys.stderr`` is a capture object whose ``fileno()`` is -1, which multiprocessing's resource tracker passed
to its child ("bad value(s) in fds_to_keep"), so every real-size ~/.codex loaded nothing. These tests lower
the threshold instead of writing hundreds of MB, and start from a resource tracker that has not run yet, as in
a new ``ccl-tui`` process (an earlier test may have started this process's shared one, hiding the bug).
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import resource_tracker
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable

import ccl_tui.store.ingest as ingest_mod
from ccl_tui.pipeline import ranked_issues
from ccl_tui.store.db import Store
from ccl_tui.tui.app import make_app
from ccl_tui.tui.screens.demo import DemoScreen
from tests.conftest import DEMO, PROCESSES_FOR_ANY_SIZE, write_config
from tests.tui_support import app_for, screen_text, settle, wait_loaded

SIZE = (140, 42)


@pytest.fixture
def new_resource_tracker(monkeypatch: pytest.MonkeyPatch) -> Iterator[resource_tracker.ResourceTracker]:
    tracker = resource_tracker.ResourceTracker()
    monkeypatch.setattr(resource_tracker, "_resource_tracker", tracker)
    for name in ("ensure_running", "register", "unregister", "getfd"):
        monkeypatch.setattr(resource_tracker, name, getattr(tracker, name))
    yield tracker
    stop = getattr(tracker, "_stop", None)  # Python >= 3.12
    if stop is not None:
        stop()


@pytest.fixture
def processes_for_any_size(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every ingest uses worker processes (as above the threshold); returns the pool sizes started."""
    started: list[int] = []
    real = ingest_mod.start_processes

    def spy(n: int) -> ProcessPoolExecutor:
        started.append(n)
        return real(n)

    write_config(PROCESSES_FOR_ANY_SIZE)
    monkeypatch.setattr(ingest_mod, "start_processes", spy)
    return started


async def _expected_ids(demo_db: Path) -> list[str]:
    store = await Store.open(demo_db)
    try:
        return [i.id for i in await ranked_issues(store)]
    finally:
        await store.close()


async def test_worker_processes_start_inside_the_running_app(
    tmp_path: Path, demo_db: Path, new_resource_tracker: Any, processes_for_any_size: list[int]
) -> None:
    app = app_for(tmp_path / "fresh.sqlite")
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, timeout=120)
        state = app.hub.state
        assert state.error is None, state.error
        assert processes_for_any_size == [2]  # the process pool (both cores) was used, not the thread fallback
        assert state.summary is not None and state.summary.errors == [] and state.summary.new == 505
        issues = await app.hub.issues()
        assert [i.id for i in issues] == await _expected_ids(demo_db)  # the same ranking as a CLI ingest
        table = app.screen.query_one("#issues-table", DataTable)
        assert table.row_count == len(issues) > 10
        text = screen_text(app)
        assert issues[0].title in text and "fds_to_keep" not in text


class _CannotSpawn(ProcessPoolExecutor):
    """A pool whose processes cannot start in this host (what the TUI hit before the fix)."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        raise ValueError("bad value(s) in fds_to_keep")


async def test_a_pool_that_cannot_start_falls_back_and_the_load_completes(
    tmp_path: Path, demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(PROCESSES_FOR_ANY_SIZE)
    monkeypatch.setattr(ingest_mod, "start_processes", lambda n: _CannotSpawn(max_workers=n))
    app = app_for(tmp_path / "fresh.sqlite")
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot, timeout=120)
        state = app.hub.state
        assert state.error is None and state.summary is not None
        note = (
            "(ingest)",
            "worker processes failed (they could not start: ValueError: bad value(s) in "
            "fds_to_keep); continued in one thread",
        )
        assert state.summary.errors == [note] and state.summary.new == 505
        assert [i.id for i in await app.hub.issues()] == await _expected_ids(demo_db)
        # the user is told, not left guessing why it was slower
        assert any("continued in one thread" in str(n.message) for n in app._notifications)


async def test_the_guided_demo_on_a_large_folder_of_ones_own_logs(
    tmp_path: Path, demo_db: Path, new_resource_tracker: Any, processes_for_any_size: list[int]
) -> None:
    """`ccl-tui demo --sessions DIR` presents on the user's own logs, loaded by worker processes."""
    app = make_app([str(DEMO)], str(tmp_path / "own.sqlite"), demo=True)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, DemoScreen)
        await wait_loaded(pilot, timeout=120)
        assert app.hub.state.error is None and processes_for_any_size == [2]
        assert app.hub.state.summary is not None and app.hub.state.summary.errors == []
        await pilot.press("5")  # the Issues stage
        await settle(pilot)
        expected = await _expected_ids(demo_db)
        top = next(i for i in await app.hub.issues() if i.id == expected[0])
        assert top.title in screen_text(app)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _served_screen(port: int, until: Callable[[str], bool], timeout: float, linger: float = 0) -> str:
    """What a browser tab of `ccl-tui serve` receives (textual-serve's websocket protocol), as plain text,
    until ``until`` holds and ``linger`` seconds more."""
    import aiohttp

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    received = b""
    plain = ""
    async with aiohttp.ClientSession() as http:
        while True:  # the server may still be starting
            try:
                ws = await http.ws_connect(f"http://127.0.0.1:{port}/ws?width=140&height=42")
                break
            except aiohttp.ClientConnectionError:
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(0.2)
        async with ws:
            await ws.send_json(["resize", {"width": 140, "height": 42}])
            stop = deadline
            while loop.time() < stop:
                if stop == deadline and until(plain):
                    stop = min(deadline, loop.time() + linger)
                    if not linger:
                        break
                try:
                    msg = await asyncio.wait_for(ws.receive(), 1)
                except TimeoutError:
                    continue
                if msg.type == aiohttp.WSMsgType.BINARY:
                    received += msg.data
                    plain = re.sub(rb"\x1b\[[0-9;?<>=$]*[A-Za-z]", b"", received).decode("utf-8", "replace")
                elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    break
    return plain


async def test_serve_loads_a_large_folder_in_the_browser_session(tmp_path: Path, demo_db: Path) -> None:
    """`ccl-tui serve --demo --sessions DIR`: the app textual-serve starts per tab runs on pipes, with its
    stderr captured, and still parses in worker processes (the config makes the folder count as large)."""
    pytest.importorskip("textual_serve", reason="the [serve] extra is not installed")
    write_config(PROCESSES_FOR_ANY_SIZE)
    expected = await _expected_ids(demo_db)
    store = await Store.open(demo_db)
    try:
        top = next(i for i in await ranked_issues(store) if i.id == expected[0])
    finally:
        await store.close()
    port = _free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ccl_tui.cli",
        "serve",
        "--demo",
        "--sessions",
        str(DEMO),
        "--port",
        str(port),
        "--db",
        str(tmp_path / "served.sqlite"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    try:
        # stage 1 (Problem) lists the costliest issues once the load is done
        plain = await _served_screen(port, lambda s: top.title in s, 90, linger=6)
        assert "needs an interactive terminal" not in plain and "Problem" in plain
        assert top.title in plain
        # no fallback: it would have been announced when the load finished
        assert "fds_to_keep" not in plain and "while reading sessions" not in plain
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), 10)
