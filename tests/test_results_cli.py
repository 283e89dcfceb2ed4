"""``ccl-tui results import|list|remove``, ``improvement`` and ``fix`` from the command line, end to end:
a task ccl-tui wrote -> a Harbor job that ran it -> the issue's pass rate; a fix mark -> before/after."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import orjson
import pytest

from ccl_tui.cli import main
from ccl_tui.demo.plan import FIX_DATE
from tests.tui_support import copy_db

JOBS = Path(__file__).parent / "fixtures" / "harbor_jobs"
BASELINE = JOBS / "2026-11-02__09-00-00"


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> str:
    return str(copy_db(demo_db, tmp_path / "demo.sqlite"))


def test_import_list_improvement_remove(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "results", "import", str(JOBS), "--db", db, "--json")
    assert code == 0
    reports = json.loads(out)
    assert [r["run"]["label"] for r in reports] == [p.name for p in sorted(JOBS.glob("2026-*"))]
    assert reports[0]["unmatched_tasks"] == ["hello-world"] and reports[1]["pending_trials"] == 1
    assert len(reports[1]["skipped"]) == 2
    code, out, _ = cli(capsys, "results", "import", str(BASELINE), "--db", db)
    assert code == 0 and "already imported" in out and "0 trial(s) added, 6 already there" in out
    code, out, _ = cli(capsys, "results", "list", "--db", db, "--json")
    assert [r["trials"] for r in json.loads(out)] == [6, 5]

    code, out, _ = cli(capsys, "improvement", "--db", db, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["baseline"] == "2026-11-02__09-00-00" and data["after"] == "2026-11-20__09-00-00"
    (entry,) = data["issues"]
    assert [r["pass_rate"]["hits"] for r in entry["runs"]] == [1, 4]
    assert [r["pass_rate"]["n"] for r in entry["runs"]] == [4, 5]
    assert entry["runs"][0]["ungraded"] == 1 and entry["runs"][0]["errors"] == 2
    change = entry["pass_rate_change"]
    assert change["difference"] == pytest.approx(0.55) and change["significant"] is False
    assert (change["baseline_run"], change["after_run"]) == ("2026-11-02__09-00-00", "2026-11-20__09-00-00")
    assert (change["before"], change["after"]) == (0.25, 0.8)
    assert entry["recurrence"] is None and entry["weeks"]

    code, out, _ = cli(capsys, "improvement", "--db", db)
    assert code == 0 and "pass rate 25% (1/4, 95% CI 5%-70%)" in out and "not significant" in out
    code, _, err = cli(capsys, "improvement", "--db", db, "--baseline", "nope")
    assert code == 2 and "no run labelled 'nope'" in err

    code, out, _ = cli(capsys, "results", "remove", "2026-11-02__09-00-00", "--db", db)
    assert code == 0
    code, _, err = cli(capsys, "results", "remove", "2026-11-02__09-00-00", "--db", db)
    assert code == 2 and "no run labelled" in err
    code, out, _ = cli(capsys, "results", "list", "--db", db, "--json")
    assert [r["label"] for r in json.loads(out)] == ["2026-11-20__09-00-00"]


def test_fix_marks_and_before_after(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "report", "--db", db, "--json", "--top", "0")
    issues = json.loads(out)["issues"]
    fixed = next(i for i in issues if i["signature"] == "pytest | ModuleNotFoundError: httpx")
    code, out, _ = cli(capsys, "improvement", "--db", db, "--json")
    (point,) = json.loads(out)["suggested_fix_dates"]  # the change point, found from the data alone
    assert (point["issue_id"], point["split"]) == (fixed["id"], FIX_DATE)
    code, out, _ = cli(capsys, "fix", fixed["id"], "--date", FIX_DATE, "--note", "uv sync first", "--db", db)
    assert code == 0 and f"fixed on {FIX_DATE} (uv sync first)" in out
    code, out, _ = cli(capsys, "improvement", "--db", db, "--json", "--issue", fixed["id"])
    (entry,) = json.loads(out)["issues"]
    rec = entry["recurrence"]
    assert rec["verdict"] == "dropped" and rec["change"]["significant"] is True
    assert json.loads(out)["suggested_fix_dates"] == []  # marked: no longer a suggestion
    assert rec["before"]["rate"] > 3 * rec["after"]["rate"]
    assert set(rec["by_origin"]) <= {"interactive", "ide", "other"}
    code, out, _ = cli(capsys, "improvement", "--db", db)
    assert "fixed on 2026-10-26 (uv sync first): dropped" in out and "change (same origin mix)" in out

    code, _, err = cli(capsys, "fix", fixed["id"], "--date", "yesterday", "--db", db)
    assert code == 2 and "not a date" in err
    code, _, err = cli(capsys, "fix", "I-ffffffffff", "--db", db)
    assert code == 2 and "no issue" in err
    code, out, _ = cli(capsys, "fix", fixed["id"], "--clear", "--db", db, "--json")
    assert json.loads(out)["cleared"] is True
    code, out, _ = cli(capsys, "improvement", "--db", db)
    assert "No issue has Harbor results or a fix mark yet" in out


def test_bad_job_folders_get_a_clear_message(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "results", "import", str(tmp_path / "missing"), "--db", db)
    assert code == 2 and "no such folder" in err
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "notes.txt").write_text("hi")
    code, _, err = cli(capsys, "results", "import", str(tmp_path / "plain"), "--db", db)
    assert code == 2 and "not a Harbor job folder" in err


def test_a_task_written_by_ccl_tui_is_matched_by_its_metadata(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Write the top issue's task, pretend Harbor ran it under another name, import: the issue is found."""
    code, out, _ = cli(capsys, "task", "1", "--db", db, "--out", str(tmp_path / "tasks"), "--json")
    assert code == 0, out
    task = json.loads(out)
    doc = orjson.loads(next(BASELINE.glob("ccl-i-*/result.json")).read_bytes())
    doc.update(task_name="acme/flaky-install", task_id={"path": task["path"]})
    job = tmp_path / "jobs" / "2026-11-24__10-00-00"
    (job / "acme-flaky-install__abc1234").mkdir(parents=True)
    (job / "config.json").write_text("{}")
    (job / "acme-flaky-install__abc1234" / "result.json").write_bytes(orjson.dumps(doc))
    code, out, _ = cli(capsys, "results", "import", str(job), "--label", "nightly", "--db", db, "--json")
    assert code == 0 and json.loads(out)[0]["unmatched_tasks"] == []
    code, out, _ = cli(capsys, "improvement", "--db", db, "--json")
    (entry,) = json.loads(out)["issues"]
    assert entry["issue_id"] == task["issue_id"] and entry["runs"][0]["label"] == "nightly"
    # the task folder moved to another machine: --tasks-dir finds it by name
    moved = tmp_path / "elsewhere"
    shutil.copytree(task["path"], moved / "acme" / "flaky-install")
    doc.update(id="00000000-0000-4000-8000-0000000000aa", task_id={"path": "/gone/flaky-install"})
    job2 = tmp_path / "jobs2" / "j"
    (job2 / "t").mkdir(parents=True)
    (job2 / "config.json").write_text("{}")
    (job2 / "t" / "result.json").write_bytes(orjson.dumps(doc))
    code, out, _ = cli(capsys, "results", "import", str(job2), "--tasks-dir", str(moved / "acme"), "--db", db, "--json")
    assert code == 0 and json.loads(out)[0]["unmatched_tasks"] == []
