"""Regenerate the SVG screenshots in this folder from the bundled demo corpus (shown in the README).

    python screenshots/make_screenshots.py

It drives the real app through the same factory the CLI uses (``make_app``), with Textual's Pilot, at a
fixed terminal size: every guided-demo stage, the triage screens (issues, issue, transcript, improvement)
and the high-contrast theme.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from textual.pilot import Pilot  # noqa: E402

from ccl_tui.tui.app import CclApp, make_app  # noqa: E402
from ccl_tui.tui.hub import Source  # noqa: E402
from ccl_tui.tui.screens.demo import STAGES, DemoScreen  # noqa: E402
from tests.tui_support import DEMO, build_db, copy_db, settle, wait_loaded  # noqa: E402

SIZE = (130, 40)
Step = Callable[[Pilot], Awaitable[None]]


async def shoot(db: Path, name: str, step: Step, *, demo: bool = False, theme: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as td:
        # like `ccl-tui demo`: the corpus and its two bundled Harbor runs
        source = Source((DEMO,), copy_db(db, Path(td) / "db.sqlite"), jobs=(DEMO / "harbor-jobs",))
        app: CclApp = make_app(source=source, demo=demo, theme=theme)
        async with app.run_test(size=SIZE) as pilot:
            await wait_loaded(pilot)
            await step(pilot)
            await settle(pilot)
            app.save_screenshot(f"{name}.svg", path=str(HERE))
    print(f"screenshots/{name}.svg")


def stage(n: int) -> Step:
    async def go(pilot: Pilot) -> None:
        await pilot.press(str(n + 1))
        await settle(pilot)
        screen = pilot.app.screen
        if isinstance(screen, DemoScreen) and n == 1:
            await pilot.pause(1.5)  # let the highlight travel along the loop once

    return go


async def nothing(pilot: Pilot) -> None:
    return None


async def issue(pilot: Pilot) -> None:
    await pilot.press("enter")


async def transcript(pilot: Pilot) -> None:
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("enter")


async def improvement(pilot: Pilot) -> None:
    """i opens the Improvement view; on the issue the corpus fixed, f then enter marks the suggested date."""
    from ccl_tui.tui.screens.improvement import ImprovementScreen

    await pilot.press("i")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ImprovementScreen)
    for _ in range(50):
        if screen.loaded:
            break
        await pilot.pause(0.1)
    target = next(n for n, r in enumerate(screen._rows) if r.suggestion is not None and r.entry and r.entry.runs)
    for _ in range(target):
        await pilot.press("down")
    await pilot.press("f")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.pause(0.5)


async def main() -> None:
    os.environ.setdefault("CCL_TUI_DATA_DIR", tempfile.mkdtemp(prefix="ccl-screens-"))
    with tempfile.TemporaryDirectory() as td:
        db = Path(td) / "demo.sqlite"
        await build_db(db)
        for n, name in enumerate(STAGES):
            await shoot(db, f"demo-{n + 1}-{name.lower().replace(' ', '-')}", stage(n), demo=True)
        await shoot(db, "triage-1-issues", nothing)
        await shoot(db, "triage-2-issue", issue)
        await shoot(db, "triage-3-transcript", transcript)
        await shoot(db, "triage-4-improvement", improvement)
        await shoot(db, "theme-high-contrast", stage(3), demo=True, theme="ccl-high-contrast")


if __name__ == "__main__":
    asyncio.run(main())
