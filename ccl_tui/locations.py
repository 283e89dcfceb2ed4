"""Where things live: Codex's and Claude Code's homes, our database, config and caches (platformdirs, env
overrides)."""

from __future__ import annotations

import os
from pathlib import Path

APP = "ccl-tui"


def codex_home() -> Path:
    env = os.environ.get("CODEX_HOME")
    return Path(env).expanduser() if env else Path.home() / ".codex"


def claude_home() -> Path:
    """Claude Code's configuration folder (its sessions are under ``projects/``)."""
    env = os.environ.get("CLAUDE_CONFIG_DIR")
    return Path(env).expanduser() if env else Path.home() / ".claude"


def default_homes() -> list[Path]:
    """Where ccl-tui looks for sessions by default: Codex's home, and Claude Code's when it exists."""
    homes = [codex_home()]
    claude = claude_home()
    if (claude / "projects").is_dir():
        homes.append(claude)
    return homes


def data_dir() -> Path:
    env = os.environ.get("CCL_TUI_DATA_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path(APP, appauthor=False)


def config_file() -> Path:
    env = os.environ.get("CCL_TUI_CONFIG")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP, appauthor=False) / "config.toml"


def default_db() -> Path:
    env = os.environ.get("CCL_TUI_DB")
    return Path(env).expanduser() if env else data_dir() / "ccl.sqlite"


def demo_db() -> Path:
    return data_dir() / "demo.sqlite"


def bundled_demo_sessions() -> Path:
    """The demo corpus shipped in the source tree (``demo_sessions/`` next to the package)."""
    return Path(__file__).resolve().parent.parent / "demo_sessions"


def chroma_dir() -> Path:
    return data_dir() / "chroma"


def tasks_dir() -> Path:
    return data_dir() / "tasks"
