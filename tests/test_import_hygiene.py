"""The core is UI-free and the CLI starts fast: enforced, not hoped for."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "ccl_tui.sources.rollout",
    "ccl_tui.sources.parse",
    "ccl_tui.store.db",
    "ccl_tui.store.ingest",
    "ccl_tui.transcript",
    "ccl_tui.text.ansi",
    "ccl_tui.results.api",
]


def loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return set(out.split())


def test_core_never_imports_textual_or_rich() -> None:
    mods = loaded_after("\n".join(f"import {m}" for m in CORE))
    assert not {m for m in mods if m.split(".")[0] in ("textual", "rich")}
    assert not {m for m in mods if m.startswith("ccl_tui.tui")}


def test_cli_entry_point_imports_nothing_heavy() -> None:
    mods = loaded_after("import ccl_tui.cli")
    heavy = {"textual", "rich", "chromadb", "openai", "aiosqlite", "sklearn", "numpy", "harbor"}
    assert not {m.split(".")[0] for m in mods} & heavy


def test_import_linter_contract() -> None:
    """import-linter's forbidden contract in pyproject.toml: core packages never import textual/rich/tui."""
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Core is UI-free KEPT" in res.stdout


def test_app_module_leaves_the_core_for_later() -> None:
    """First paint must not wait for the store, detectors, ChromaDB, OpenAI or Harbor."""
    mods = loaded_after("import ccl_tui.tui.app")
    late = {
        "ccl_tui.pipeline",
        "ccl_tui.store.db",
        "ccl_tui.store.ingest",
        "ccl_tui.signals.detect",
        "ccl_tui.signals.signature",
        "aiosqlite",
        "chromadb",
        "openai",
        "sklearn",
        "harbor",
        "numpy",
    }
    assert not (late & mods)
