"""``ccl-tui task``, ``tasks export`` and ``tasks check`` through the parser that ``register`` builds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.builders import Rollout
from tests.conftest import require_harbor
from tests.tasks_helpers import cli_parser


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    args = cli_parser().parse_args(list(argv))
    code = args.func(args)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def db(tmp_path: Path) -> str:
    for i, (cmd, out) in enumerate(
        (
            ("pytest -q tests/test_a.py", "E   AssertionError: [bold]x[/bold]"),
            ("cargo test", "error[E0433]: failed to resolve"),
        )
    ):
        r = Rollout(start=f"2026-10-1{i}T09:00:00", cwd=f"/w/repo{i}")
        r.user(f"fix the failing tests [red]{i}[/red]")
        r.exec(cmd, out, 1)
        r.patch("src/a.py", old="a", new="b")
        r.exec(cmd, "ok", 0)
        r.complete()
        r.write(tmp_path / "codex")
    path = str(tmp_path / "s.sqlite")
    from ccl_tui.cli import main

    assert main(["ingest", "--db", path, "--json", "--no-detect", str(tmp_path / "codex")]) == 0
    return path


def test_task_for_an_issue_json(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code, out, _ = run(capsys, "task", "1", "--db", db, "--out", str(tmp_path / "t"), "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["issue_id"].startswith("I-") and Path(data["path"]).is_dir()
    assert data["environment_mode"] == "clone" and data["has_solution"] is True
    assert "solution/fix.patch" in data["files"] and "tests/check.sh" in data["files"]
    # Writing it again needs --force.
    code, out, _ = run(capsys, "task", data["issue_id"], "--db", db, "--out", str(tmp_path / "t"), "--json")
    assert code == 1 and "already exists" in json.loads(out)["error"]
    code, out, _ = run(capsys, "task", data["issue_id"], "--db", db, "--out", str(tmp_path / "t"), "--force")
    assert code == 0 and "Wrote" in out and "verifier:" in out


def test_task_for_a_signal_and_errors(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code, out, _ = run(capsys, "task", "--db", db, "--out", str(tmp_path / "t"), "--json", "--signal", "nope:3")
    assert code == 1 and "no session" in json.loads(out)["error"]
    code, _, err = run(capsys, "task", "--db", db)
    assert code == 2 and "ISSUE_ID" in err
    code, _, err = run(capsys, "task", "I-ffffffffff", "--db", db)
    assert code == 1 and "no issue" in err
    with pytest.raises(SystemExit):
        cli_parser().parse_args(["task", "--signal", "no-seq-here"])
    from ccl_tui.cli import main

    main(["signals", "--db", db, "--json", "--kind", "command_failure"])
    sig = json.loads(capsys.readouterr().out)[0]
    code, out, _ = run(
        capsys,
        "task",
        "--db",
        db,
        "--out",
        str(tmp_path / "t"),
        "--json",
        "--signal",
        f"{sig['session_id'][:13]}:{sig['seq']}",
    )
    assert code == 0
    data = json.loads(out)
    assert data["session_id"] == sig["session_id"] and data["signal_seq"] == sig["seq"]
    assert data["name"].startswith("ccl-signal-")


def test_plain_output_prints_session_text_literally(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code, out, _ = run(capsys, "tasks", "export", "--db", db, "--top", "5", "--out", str(tmp_path / "ds"))
    assert code == 0 and "task(s) in" in out and "harbor run -p" in out
    instruction = next((tmp_path / "ds").glob("*/instruction.md")).read_text()
    assert "[red]" in instruction  # stored as written, never interpreted


def test_export_then_check(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    require_harbor()
    capsys.readouterr()
    ds = tmp_path / "ds"
    code, out, _ = run(
        capsys, "tasks", "export", "--db", db, "--top", "5", "--out", str(ds), "--json", "--include-delight"
    )
    assert code == 0
    report = json.loads(out)
    names = [t["name"] for t in report["tasks"]]
    # Both sessions recorded the failing check in exactly the start state: two proven fix tasks. Their delight
    # signals (zero denials) plan the same task again (same session, state and check): written once.
    assert [(t["flavour"], t["class"], t["evidence"]) for t in report["tasks"]] == [
        ("fix", "proven-fix", "recorded")
    ] * 2
    assert report["counts"]["proven-fix"] == 2 and any("the same task as" in s["reason"] for s in report["skipped"])
    assert (ds / "ccl-tui-dataset.json").is_file()

    code, out, _ = run(capsys, "tasks", "check", str(ds), "--json")
    checked = json.loads(out)
    assert code == 0 and checked["valid"] == checked["total"] == len(names)

    # Break three tasks in the ways Harbor's validity rules catch; check must notice each.
    t0, t1 = ds / names[0], ds / names[1]
    toml = (t0 / "task.toml").read_text()
    (t0 / "task.toml").write_text(toml.replace("[agent]\n", "[agent]\nbogus_field = 1\n"))
    (t1 / "tests" / "test.sh").unlink()
    broken = ds / "broken"
    shutil.copytree(t1, broken)
    (broken / "task.toml").write_text("schema_version = \n")
    code, out, _ = run(capsys, "tasks", "check", str(ds), "--json")
    assert code == 1
    by_name = {t["name"]: t for t in json.loads(out)["tasks"]}
    assert any("unknown-config-field" in p for p in by_name[names[0]]["problems"])
    assert any("invalid-task-files" in p for p in by_name[names[1]]["problems"])
    assert any("invalid-task-config" in p for p in by_name["broken"]["problems"])

    fresh = tmp_path / "fresh"
    run(capsys, "tasks", "export", "--db", db, "--top", "5", "--out", str(fresh), "--json")
    code, out, _ = run(capsys, "tasks", "check", str(fresh / names[0]), "--execute", "--json")
    task = json.loads(out)["tasks"][0]
    assert task["executed"] is False and "no local repository snapshot" in task["note"]
    assert "--clone fetches" in task["note"] and task["class"] == "proven-fix"  # not executed: the plan stands


def test_check_reports_bad_scripts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    task = tmp_path / "t"
    (task / "tests").mkdir(parents=True)
    (task / "environment").mkdir()
    (task / "environment" / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    (task / "instruction.md").write_text("do it\n")
    (task / "task.toml").write_text('schema_version = "1.4"\n')
    (task / "tests" / "test.sh").write_text("#!/usr/bin/env bash\nif then fi (\n")
    code, out, _ = run(capsys, "tasks", "check", str(task), "--json")
    data = json.loads(out)["tasks"][0]
    assert code == 1 and data["script_errors"] and not data["ok"]
    code, _, err = run(capsys, "tasks", "check", str(tmp_path / "missing"))
    assert code == 2 and "No such folder" in err


def test_export_twice_keeps_the_manifest_complete(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = tmp_path / "ds"
    run(capsys, "tasks", "export", "--db", db, "--top", "5", "--out", str(ds), "--json")
    first = json.loads((ds / "ccl-tui-dataset.json").read_text())
    assert len(first["tasks"]) == 2
    code, out, _ = run(capsys, "tasks", "export", "--db", db, "--top", "5", "--out", str(ds), "--json")
    again = json.loads(out)
    assert again["tasks"] == [] and all("already exists" in s["reason"] for s in again["skipped"])
    assert {t["name"] for t in json.loads((ds / "ccl-tui-dataset.json").read_text())["tasks"]} == {
        t["name"] for t in first["tasks"]
    }
    code, out, _ = run(capsys, "tasks", "export", "--db", db, "--top", "5", "--out", str(ds), "--json", "--force")
    assert code == 0 and len(json.loads(out)["tasks"]) == 2
