"""Thresholds and weights live in one config, overridable from TOML in the user config dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccl_tui.config.settings import ConfigError, Settings, load_settings


def test_defaults_without_a_file(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "missing.toml") == Settings()


def test_overrides_from_env_config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        "[signals]\nretry_loop_min = 4\ncontext_fill_threshold = 0.9\n[impact]\nrecency_half_life_days = 30\n"
    )
    monkeypatch.setenv("CCL_TUI_CONFIG", str(cfg))
    s = load_settings()
    assert s.signals.retry_loop_min == 4 and s.signals.context_fill_threshold == 0.9
    assert s.impact.recency_half_life_days == 30.0
    assert s.fingerprint() != Settings().fingerprint()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[signals]\nretry_loop_minimum = 4\n", "unknown key"),
        ("[signals]\nretry_loop_min = 'four'\n", "must be int"),
        ("[impact]\ncost_per_turn = true\n", "must be float"),
        ("signals = 3\n", "must be a table"),
        ("[signals\n", "config.toml"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(cfg)
