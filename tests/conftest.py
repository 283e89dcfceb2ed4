"""Shared fixtures. Tests never touch the user's real data dirs or ~/.codex."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ccl_tui.store.db import Store

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "fixtures" / "codex_samples"
DEMO = ROOT / "demo_sessions"


def require_harbor() -> None:
    """Skip (locally) or fail (under CI=true) when the optional Harbor framework is not installed."""
    try:
        import harbor  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("harbor is not installed but CI=true: install with pip install -e '.[harbor]'")
        pytest.skip("harbor not installed (needs Python >= 3.12 and the [harbor] extra)")


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path_factory.mktemp("ccl-home")
    monkeypatch.setenv("CCL_TUI_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("CCL_TUI_CONFIG", str(base / "config.toml"))
    monkeypatch.setenv("CODEX_HOME", str(base / "codex-home"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(base / "claude-home"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def write_config(text: str) -> Path:
    """Write the test's own config.toml (``$CCL_TUI_CONFIG``, private to each test)."""
    path = Path(os.environ["CCL_TUI_CONFIG"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


#: Worker processes for any corpus size, as a 48 MB+ folder gets (two cores: one writes, one parses).
PROCESSES_FOR_ANY_SIZE = "[ingest]\nworkers = 2\nprocess_threshold_mb = 0.0\n"


@pytest.fixture
def samples() -> Path:
    return SAMPLES


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "test.sqlite")
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo corpus ingested and detected once per test session (copy it before use)."""
    import asyncio

    from tests.tui_support import build_db

    db = tmp_path_factory.mktemp("demo-db") / "demo.sqlite"
    asyncio.run(build_db(db))
    return db
