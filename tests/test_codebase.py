"""The habits that keep the code base honest: one transaction helper, severities in the settings, one place
for the provider's environment, subcommands registered through ``commands/``, and bare ``pytest``."""

from __future__ import annotations

import argparse
import re
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import aiosqlite
import pytest

from ccl_tui.config.settings import ConfigError, Settings, Severities, SignalThresholds, load_settings
from ccl_tui.pipeline import refresh
from ccl_tui.semantic import provider
from ccl_tui.store.db import Store
from ccl_tui.store.ingest import ingest
from ccl_tui.store.tx import atransaction, transaction
from tests.builders import Rollout
from tests.gold.make_gold import PYTEST_MISSING

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------ transactions
def _table(tmp_path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(tmp_path / "t.sqlite", isolation_level=None)
    con.execute("CREATE TABLE t (x INTEGER)")
    return con


def test_transaction_commits_and_rolls_back_on_any_exception(tmp_path: Path) -> None:
    con = _table(tmp_path)
    with transaction(con):
        con.execute("INSERT INTO t VALUES (1)")
    for exc in (ValueError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(exc)), transaction(con):
            con.execute("INSERT INTO t VALUES (2)")
            raise exc
    assert con.execute("SELECT x FROM t").fetchall() == [(1,)]
    assert not con.in_transaction


def test_a_nested_block_joins_the_outer_transaction(tmp_path: Path) -> None:
    con = _table(tmp_path)
    with pytest.raises(RuntimeError), transaction(con):
        with transaction(con):  # joins: nothing is committed here
            con.execute("INSERT INTO t VALUES (1)")
        raise RuntimeError("outer fails after the inner block")
    assert con.execute("SELECT COUNT(*) FROM t").fetchone() == (0,)


async def test_async_transaction_rolls_back(tmp_path: Path) -> None:
    async with aiosqlite.connect(tmp_path / "a.sqlite", isolation_level=None) as db:
        await db.execute("CREATE TABLE t (x INTEGER)")
        async with atransaction(db):
            await db.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(ValueError):
            async with atransaction(db):
                await db.execute("INSERT INTO t VALUES (2)")
                raise ValueError
        async with db.execute("SELECT x FROM t") as cur:
            assert await cur.fetchall() == [(1,)]
        assert not db.in_transaction


def test_no_transaction_is_written_by_hand_outside_the_helper() -> None:
    """BEGIN/COMMIT/ROLLBACK appear in ccl_tui only in store/tx.py."""
    offenders = []
    for path in (ROOT / "ccl_tui").rglob("*.py"):
        if path.name == "tx.py":
            continue
        text = path.read_text(encoding="utf-8")
        for word in ('"BEGIN', '"COMMIT"', '"ROLLBACK"'):
            if word in text:
                offenders.append(f"{path.relative_to(ROOT)}: {word}")
    assert offenders == []


# ------------------------------------------------------------------------------------------ severities
def test_severities_are_settings_and_change_the_fingerprint(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("[signals]\nretry_loop_min = 4\n[signals.severity]\npatch_failure = 0.9\ncommand_failure = 1\n")
    s = load_settings(cfg)
    assert s.signals.retry_loop_min == 4
    assert s.signals.severity.patch_failure == 0.9 and s.signals.severity.command_failure == 1.0
    assert s.signals.severity.timeout == Severities().timeout
    assert s.fingerprint() != Settings().fingerprint()  # stored detections are redone


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[signals.severity]\npatch_failur = 0.9\n", "unknown key(s) in [signals.severity]"),
        ("[signals.severity]\npatch_failure = 'high'\n", "[signals.severity] patch_failure must be float"),
        ("[signals]\nseverity = 3\n", "[signals.severity] must be a table"),
    ],
)
def test_bad_severity_config_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(cfg)


async def test_a_configured_severity_is_what_the_detector_writes(store: Store, tmp_path: Path) -> None:
    r = Rollout(start="2026-10-01T09:00:00")
    r.user("make the tests pass")
    r.exec("pytest -q", PYTEST_MISSING, 2)  # a verification run that fails
    r.exec("cat missing.txt", "cat: missing.txt: No such file or directory", 1)  # an ordinary command
    r.complete()
    r.write(tmp_path / "home")
    await ingest(store, [tmp_path / "home"])
    custom = Settings(
        signals=replace(
            SignalThresholds(), severity=replace(Severities(), verification_failure=0.95, command_failure=0.15)
        )
    )
    await refresh(store, custom)
    by_detail = {s.detail.split(":")[0]: s.severity for s in await store.signals() if s.kind == "command_failure"}
    assert sorted(by_detail.values()) == [0.15, 0.95], by_detail


# ------------------------------------------------------------------------------------------ provider
def test_the_provider_environment_is_read_in_one_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", "")
    assert provider.api_key() is None and provider.base_url() is None and not provider.has_api_key()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert provider.api_key() == "sk-test" and provider.base_url() == "http://127.0.0.1:9/v1"
    assert provider.api_key("given") == "given" and provider.base_url("http://x") == "http://x"
    from ccl_tui.semantic.embedders import OpenAIEmbedder
    from ccl_tui.semantic.llm import LLMClient

    assert OpenAIEmbedder().base_url == "http://127.0.0.1:9/v1"
    assert LLMClient(None).api_key == "sk-test"
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "ccl_tui").rglob("*.py")
        if p.name != "provider.py" and 'environ.get("OPENAI_' in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


# ------------------------------------------------------------------------------------------ commands
def test_every_subcommand_is_registered_through_commands_and_has_a_handler() -> None:
    from ccl_tui.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    names = set(sub.choices)
    assert {"ingest", "sessions", "report", "signals", "show", "demo", "serve", "task", "tasks", "results"} <= names
    assert {"improvement", "fix", "analyze", "clusters"} <= names
    for name, p in sub.choices.items():
        if name in ("tasks", "results"):
            continue  # groups: their own subcommands carry the handlers
        assert callable(p.get_default("func")), name
    cli = (ROOT / "ccl_tui" / "cli.py").read_text(encoding="utf-8")
    assert "add_parser(" not in cli  # cli.py builds the top level only


# ------------------------------------------------------------------------------------------ bare pytest
def test_bare_pytest_collects_the_suite() -> None:
    """``pytest`` (the script, not ``python -m pytest``) imports the ``tests`` package: pythonpath is set."""
    exe = Path(sys.executable).with_name("pytest")
    if not exe.exists():
        pytest.skip(f"no pytest script next to {sys.executable}")
    out = subprocess.run(
        [str(exe), "--collect-only", "-q", "-p", "no:cacheprovider", "tests/test_codebase.py", "tests/test_gold.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert " error" not in out.stdout.splitlines()[-1], out.stdout[-2000:]  # "N tests collected in Xs"
    assert "test_gold_case" in out.stdout


async def test_delight_strengths_are_settings_too(store: Store, tmp_path: Path) -> None:
    r = Rollout(start="2026-10-01T09:00:00")
    r.user("rename the helper")
    r.exec("ls", "ok", 0)
    r.assistant("Renamed.")
    r.complete()
    r.write(tmp_path / "home")
    await ingest(store, [tmp_path / "home"])
    custom = Settings(
        signals=replace(SignalThresholds(), severity=replace(Severities(), fast_completion_one_prompt=0.33))
    )
    await refresh(store, custom)
    fast = [s for s in await store.signals() if s.kind == "fast_completion"]
    assert [s.severity for s in fast] == [0.33]
