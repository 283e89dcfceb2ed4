"""Tasks generated from the demo corpus and the real Codex samples, checked with Harbor's own code.

Every task must pass ``Task.is_valid_dir``, ``Task(dir)`` and ``lint_task`` with the validity rules (invalid
config, unknown config field, invalid task files), run its verifier in the agent's environment (shared) and
carry the metadata the task is traced back with.
"""

from __future__ import annotations

import asyncio
import json
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from ccl_tui.store.db import Store
from ccl_tui.tasks.check import VALIDITY_RULES, bash_syntax, check_path
from ccl_tui.tasks.export import MANIFEST, ExportReport, export_tasks
from tests.conftest import DEMO, SAMPLES, require_harbor
from tests.tasks_helpers import populated

SECTIONS = {"schema_version", "metadata", "verifier", "agent", "environment"}


def _export(tmp: Path, source: Path, top: int) -> ExportReport:
    async def run() -> ExportReport:
        store = await Store.open(tmp / "store.sqlite")
        try:
            await populated(store, source)
            return await export_tasks(store, tmp / "dataset", top, include_delight=True)
        finally:
            await store.close()

    return asyncio.run(run())


@pytest.fixture(scope="module")
def demo_export(tmp_path_factory: pytest.TempPathFactory) -> ExportReport:
    return _export(tmp_path_factory.mktemp("demo"), DEMO, 25)


@pytest.fixture(scope="module")
def samples_export(tmp_path_factory: pytest.TempPathFactory) -> ExportReport:
    return _export(tmp_path_factory.mktemp("samples"), SAMPLES, 10)


def _harbor_check(task: Path) -> list[str]:
    from harbor.lint import LintRule, lint_task
    from harbor.models.task.task import Task

    problems = []
    if not Task.is_valid_dir(task):
        problems.append("is_valid_dir")
    t = Task(task)  # raises on an invalid config or missing files
    assert t.name == task.name and t.instruction.strip()
    assert t.config.verifier.environment_mode is not None and t.config.verifier.environment_mode.value == "shared"
    rules = {LintRule(r) for r in VALIDITY_RULES}
    assert rules == {LintRule.INVALID_TASK_CONFIG, LintRule.UNKNOWN_CONFIG_FIELD, LintRule.INVALID_TASK_FILES}
    problems += [f"{f.rule}: {f.message}" for f in lint_task(task, selected_rules=rules)]
    return problems


def _common_checks(report: ExportReport) -> None:
    assert report.tasks
    for r in report.tasks:
        task = r.path
        doc = tomllib.loads((task / "task.toml").read_text())
        assert set(doc) <= SECTIONS, set(doc) - SECTIONS
        meta = doc["metadata"]
        assert meta["ccl_tui_version"] and meta["signal_kind"] and meta["source_session_ids"]
        assert meta["evidence_events"][0]["session_id"] == r.session_id
        assert meta["repository"]["commit"] and meta["verifier"]["reason"] and meta["verifier"]["command"]
        assert doc["verifier"]["environment_mode"] == "shared"
        assert 300 <= doc["verifier"]["timeout_sec"] <= 3600 and doc["agent"]["timeout_sec"] > 0
        assert (task / "tests" / "test.sh").read_text().startswith("#!/usr/bin/env bash")
        assert (task / "solution" / "solve.sh").exists() == r.has_solution == meta["solution"]["available"]
        if r.flavour == "fix" and meta["signal_kind"] != "expected_failure":
            assert meta["issue"]["id"] == r.issue_id and meta["issue"]["impact"] > 0
        count, errors = bash_syntax(task)
        assert count >= 2 and not errors, errors
    manifest = json.loads((report.out_dir / MANIFEST).read_text())
    assert {t["name"] for t in manifest["tasks"]} == {r.name for r in report.tasks}
    assert all(t["valid"] is True or t["valid"] is None for t in manifest["tasks"])


def test_demo_tasks_are_all_valid_for_harbor(demo_export: ExportReport) -> None:
    require_harbor()
    _common_checks(demo_export)
    # The task contract: "fix" counts proven fix tasks only (the session recorded the check failing in exactly the
    # start state). Unproven ones (the check only ever seen passing after edits, or interrupted) are not written
    # without --include-unproven, so --top 25 reaches further down the ranking for 25 proven ones; keep-green
    # tasks (the check recorded passing at the start) come from the issues and the delight signals.
    flavours = Counter(r.flavour for r in demo_export.tasks)
    assert flavours["fix"] == 25 and flavours["keep-green"] >= 25 and flavours["unproven"] == 0, flavours
    for r in demo_export.tasks:
        c = r.contract
        assert c is not None and c.evidence == "recorded", (r.name, c)
        meta = tomllib.loads((r.path / "task.toml").read_text())["metadata"]
        assert meta["contract"]["class"] == c.cls and meta["task_flavour"] == r.flavour
        assert meta["verifier"]["expect_fail_before_solution"] is (c.cls == "proven-fix")
        assert (c.before == "fails") if c.cls == "proven-fix" else (c.before == "passes" and "keep-green" in r.name)
    assert any(s.get("class") == "unproven" and "--include-unproven" in s["reason"] for s in demo_export.skipped)
    assert any(r.network_mode == "no-network" for r in demo_export.tasks)  # a network failure's condition
    bad = {r.name: _harbor_check(r.path) for r in demo_export.tasks}
    assert {k: v for k, v in bad.items() if v} == {}
    assert all(r.valid is True for r in demo_export.tasks)
    # The demo's recorded cwds do not exist here; its repositories ship as bundles (demo_sessions/repos) that
    # checkouts.py finds by the recorded url: every task is a snapshot of the recorded commit, verified locally.
    for r in demo_export.tasks:
        env = tomllib.loads((r.path / "task.toml").read_text())["metadata"]["environment"]
        assert r.environment_mode == "snapshot" and env["verified"] is True, (r.name, env)
        assert "snapshot of the local repository at commit" in env["reason"]
        docker = (r.path / "environment" / "Dockerfile").read_text()
        assert "ADD repo.tar.gz /app/" in docker and env["base_image"] in docker
    assert sum(1 for r in demo_export.tasks if r.has_solution and r.flavour == "fix") >= 15
    languages = Counter(
        tomllib.loads((r.path / "task.toml").read_text())["metadata"]["environment"]["language"]
        for r in demo_export.tasks
    )
    assert {"python", "node", "go", "rust"} <= set(languages)


def test_demo_dataset_folder_is_checked_by_tasks_check(demo_export: ExportReport) -> None:
    require_harbor()
    reports = check_path(demo_export.out_dir)
    assert len(reports) == len(demo_export.tasks)
    assert all(r.ok and r.valid for r in reports)


def test_real_samples_tasks_are_valid(samples_export: ExportReport) -> None:
    require_harbor()
    _common_checks(samples_export)
    bad = {r.name: _harbor_check(r.path) for r in samples_export.tasks}
    assert {k: v for k, v in bad.items() if v} == {}
    # The codemie session (Codex 0.125) wrote a failing test, fixed the code, and the test passed: a recorded
    # red -> green loop, a proven fix task (the session ran the check in exactly the start state). Its issue
    # (a failed rg in the same turn) plans the same task: written once. It starts with that test in place and the
    # solution holds the two code edits, with exact recorded line numbers.
    fix = next(r for r in samples_export.tasks if "Compaction Config" in r.verifier_command)
    assert fix.contract is not None and fix.contract.label() == "proven fix (recorded)"
    assert any("the same task as" in s["reason"] for s in samples_export.skipped)
    meta = tomllib.loads((fix.path / "task.toml").read_text())["metadata"]
    assert meta["verifier"]["strategy"] in ("failed-check", "failed-check-in-turn")
    assert meta["verifier"]["exit_code"] == 1
    assert meta["environment"]["setup_edits"] == 1 and meta["solution"]["edits"] == 2
    setup = (fix.path / "environment" / "setup.patch").read_text()
    patch = (fix.path / "solution" / "fix.patch").read_text()
    assert "Compaction Config" in setup and "codemie-code-reasoning.test.ts" in setup
    assert "b/src/agents/plugins/codemie-code.plugin.ts" in patch and "threshold: 0.9" in patch
    assert "threshold: 0.9" not in (fix.path / "instruction.md").read_text().split("## What went wrong")[0]
    assert "@@ -98,2 +98,7 @@" in patch  # from patch_apply_end, not re-derived
    # The two Desktop sessions were scrubbed by their donor ([REDACTED…] outputs): nothing in them can be verified,
    # so no friction is claimed and no task is written from them.
    assert {r.session_id for r in samples_export.tasks} == {"019e1625-789d-76c0-80ab-3724b5ddb799"}
