"""`ccl-tui serve --demo` in a real headless browser: Debian's Chromium driven by Playwright.

The page's terminal draws on a canvas, so what the browser shows is read from the frames its own websocket
received (the bytes xterm.js rendered); keys are pressed in the page, as a presenter would. `.ci/run` installs
Chromium when it is missing; a screenshot of the session lands in screenshots/serve-browser.png.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Flags for a sandboxed CI machine with no network beyond package registries (Chromium would otherwise try
#: Google's hosts at every start).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
_CSI = re.compile(r"\x1b\[[0-9;?<>=$]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]|\x1b[=>]")


def _need_browser() -> None:
    pytest.importorskip("textual_serve", reason="the [serve] extra is not installed")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("playwright is not installed but CI=true: pip install -e '.[dev]'")
        pytest.skip("playwright not installed")
    if CHROMIUM is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("chromium is not installed but CI=true: .ci/run installs Debian's chromium package")
        pytest.skip("chromium not installed (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_demo_in_a_real_browser(tmp_path: Path) -> None:
    _need_browser()
    from playwright.sync_api import sync_playwright

    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ccl_tui.cli",
            "serve",
            "--demo",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "served.sqlite"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    received: list[str] = []

    def screen() -> str:
        return _CSI.sub("", "".join(received))

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})

            def on_socket(ws) -> None:  # type: ignore[no-untyped-def]
                def take(payload: str | bytes) -> None:
                    received.append(payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload)

                ws.on("framereceived", take)

            page.on("websocket", on_socket)
            deadline = time.monotonic() + 30
            while True:  # the server may still be starting
                try:
                    page.goto(f"http://127.0.0.1:{port}/", timeout=5000)
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.3)
            start = page.locator("#start")
            if start.is_visible():
                start.click()

            def wait_for(text: str, seconds: float) -> str:
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    if text in screen():
                        return screen()
                    page.wait_for_timeout(200)
                raise AssertionError(f"{text!r} never appeared; the browser received: {screen()[-2000:]!r}")

            shown = wait_for("stage 1/7", 60)
            assert "needs an interactive terminal" not in shown
            page.wait_for_timeout(1500)  # let the stage draw before the screenshot
            page.locator("#terminal").click()
            received.clear()
            page.keyboard.press("Enter")
            wait_for("stage 2/7", 30)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(ROOT / "screenshots" / "serve-browser.png"))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
