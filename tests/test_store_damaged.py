"""Damaged, foreign, read-only and concurrently created databases (issue 13: item 7, the migration race of 6).

Every command is run for real (``ccl_tui.cli.main``, or a fresh interpreter where a traceback on stderr or
simultaneous processes matter). A database that cannot be used gives one line on stderr and a non-zero exit;
another application's SQLite file is left byte for byte as it was; a read-only database is read by every read
command (nothing written) and refused by every write command up front; N processes creating one database at
the same moment all succeed with one correct schema.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ccl_tui.cli import main
from ccl_tui.store import db as dbmod
from ccl_tui.store.db import Store, StoreReadOnly
from ccl_tui.store.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from tests.builders import Rollout

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "fixtures" / "codex_samples"
SESSION = "019e1625"  # a session of the samples


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def side_files(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name + "-"))


def assert_one_line_error(code: int, out: str, err: str, *expected: str) -> None:
    assert code != 0, (out, err)
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ccl-tui: "), err
    for text in expected:
        assert text in lines[0], err


# ---------------------------------------------------------------------------------------------- databases


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real database: the samples ingested and ranked, plus one session ingested without detection (its
    signals are pending: a read-only open must show the stored ranking without computing them)."""
    base = tmp_path_factory.mktemp("built")
    env = {
        **os.environ,
        "CCL_TUI_DATA_DIR": str(base / "data"),
        "CCL_TUI_CONFIG": str(base / "config.toml"),
        "CODEX_HOME": str(base / "codex-home"),
    }
    env.pop("OPENAI_API_KEY", None)
    db = base / "ccl.sqlite"
    extra = base / "extra"
    r = Rollout(start="2026-10-06T10:00:00")
    r.user("run the tests please")
    r.exec("pytest -q", "E   AssertionError: boom\n1 failed", 1)
    r.exec("pytest -q", "E   AssertionError: boom\n1 failed", 1)
    r.complete()
    r.write(extra)
    for argv in (["--json", str(SAMPLES)], ["--json", "--no-detect", str(extra)]):
        # in a process of its own: when it exits, its connections close and the WAL is checkpointed
        subprocess.run(
            [sys.executable, "-m", "ccl_tui.cli", "ingest", "--db", str(db), *argv],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=300,
        )
    assert side_files(db) == []  # everything is in the main file
    return db


@pytest.fixture
def good(built: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(built, tmp_path / "ccl.sqlite"))


def _truncated(good: Path, tmp: Path) -> Path:
    data = good.read_bytes()
    path = tmp / "truncated.sqlite"
    path.write_bytes(data[: len(data) // 2])
    return path


def _garbage_header(good: Path, tmp: Path) -> Path:
    data = good.read_bytes()
    path = tmp / "garbage.sqlite"
    path.write_bytes(bytes(range(100)) + data[100:])
    return path


def _newer_schema(good: Path, tmp: Path) -> Path:
    con = sqlite3.connect(good)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 3}")
    con.commit()
    con.close()
    return good


def _directory(good: Path, tmp: Path) -> Path:
    path = tmp / "a-folder.sqlite"
    path.mkdir()
    return path


def _parent_is_file(good: Path, tmp: Path) -> Path:
    (tmp / "plain-file").write_text("not a folder")
    return tmp / "plain-file" / "ccl.sqlite"


def _foreign(good: Path, tmp: Path) -> Path:
    path = tmp / "other-app.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, person INTEGER, total REAL)")
    con.executemany("INSERT INTO people(name) VALUES (?)", [("ada",), ("grace",)])
    con.commit()
    con.close()
    return path


DAMAGED: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "truncated": (_truncated, "is damaged"),
    "garbage-header": (_garbage_header, "is not a SQLite database"),
    "newer-schema": (_newer_schema, "Upgrade ccl-tui"),
    "directory": (_directory, "is a folder, not a database file"),
    "parent-is-a-file": (_parent_is_file, "is a file, not a folder"),
    "foreign": (_foreign, "another application"),
}


def commands(tmp: Path) -> list[list[str]]:
    """Every command that opens the database: reads first, then the ones that write."""
    empty = tmp / "no-sessions"
    empty.mkdir(exist_ok=True)
    out = str(tmp / "tasks-out")
    return [
        ["sessions"],
        ["sessions", "--json"],
        ["report"],
        ["report", "--json"],
        ["report", "--markdown"],
        ["signals"],
        ["signals", "--json"],
        ["show", SESSION],
        ["clusters"],
        ["improvement"],
        ["results", "list"],
        ["task", "1", "--out", out],
        ["tasks", "export", "--out", out],
        ["ingest", "--json", str(empty)],
        ["analyze", "--json", "--embedder", "local"],
        ["fix", "1"],
        ["results", "import", str(empty)],
        ["results", "remove", "nope"],
    ]


# ---------------------------------------------------------------------------------------------- damaged


@pytest.mark.parametrize("case", list(DAMAGED))
def test_every_command_gives_one_line_on_a_database_it_cannot_use(
    case: str, good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, expected = DAMAGED[case]
    db = make(good, tmp_path)
    before = sha(db) if db.is_file() else None
    for argv in commands(tmp_path):
        code, out, err = run(capsys, "--db", str(db), *argv)
        assert_one_line_error(code, out, err, expected, str(db))
        assert out == "", argv
    if before is not None:  # refused untouched: no schema added, no WAL switch, no journal left behind
        assert sha(db) == before
        assert side_files(db) == []
    if case == "parent-is-a-file":
        assert (tmp_path / "plain-file").read_text() == "not a folder"


@pytest.mark.parametrize("case", list(DAMAGED))
def test_a_fresh_process_prints_no_traceback(case: str, good: Path, tmp_path: Path) -> None:
    db = DAMAGED[case][0](good, tmp_path)
    for argv in (["report"], ["ingest", str(tmp_path / "none")]):
        proc = subprocess.run(
            [sys.executable, "-m", "ccl_tui.cli", "--db", str(db), *argv],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
        assert_one_line_error(proc.returncode, proc.stdout, proc.stderr, DAMAGED[case][1])


def test_truncated_anywhere(good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Cut at page boundaries, inside a page, inside the header: never a traceback, never a wrong answer."""
    data = good.read_bytes()
    page = 16384
    cuts = sorted(
        {
            1,
            50,
            99,
            100,
            101,
            4096,
            page,
            page + 1,
            2 * page,
            len(data) // 3,
            len(data) // 2,
            len(data) - page,
            len(data) - 1,
        }
    )
    for cut in cuts:
        db = tmp_path / f"cut-{cut}.sqlite"
        db.write_bytes(data[:cut])
        for argv in (["sessions", "--json"], ["report", "--json"], ["show", SESSION]):
            code, out, err = run(capsys, "--db", str(db), *argv)
            assert_one_line_error(code, out, err, str(db))
            assert "damaged" in err or "not a SQLite database" in err, (cut, err)


def test_damage_found_in_the_middle_of_a_command(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Header and schema intact, the second half of the pages overwritten: found only when a query reaches them."""
    data = bytearray(good.read_bytes())
    page = 16384
    pages = len(data) // page
    for p in range(pages // 2, pages):
        data[p * page : (p + 1) * page] = hashlib.sha512(str(p).encode()).digest() * (page // 64)
    good.write_bytes(bytes(data))
    for argv in (
        ["report", "--json"],
        ["show", SESSION],
        ["signals"],
        ["improvement"],
        ["ingest", "--json", str(SAMPLES)],
    ):
        code, out, err = run(capsys, "--db", str(good), *argv)
        assert_one_line_error(code, out, err, "is damaged", "malformed")


def test_foreign_databases_of_every_kind_are_left_untouched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def make(name: str, *sql: str, wal: bool = False) -> Path:
        path = tmp_path / name
        con = sqlite3.connect(path)
        if wal:
            con.execute("PRAGMA journal_mode = WAL")
        for stmt in sql:
            con.execute(stmt)
        con.commit()
        con.close()
        return path

    cases = [
        make("tables.sqlite", "CREATE TABLE notes (body TEXT)", "INSERT INTO notes VALUES ('keep me')"),
        make("versioned.sqlite", "CREATE TABLE sessions (x)", "PRAGMA user_version = 3"),  # a look-alike table name
        make("other-app-id.sqlite", "PRAGMA application_id = 1234"),  # no tables, but another application's id
        make("wal.sqlite", "CREATE TABLE kv (k, v)", wal=True),
    ]
    for db in cases:
        before, sides = sha(db), side_files(db)
        for argv in (["sessions"], ["report", "--json"], ["ingest", str(tmp_path / "none")]):
            code, out, err = run(capsys, "--db", str(db), *argv)
            assert_one_line_error(code, out, err, "another application", "leaves it untouched")
        assert sha(db) == before and side_files(db) == sides, db.name


def test_tui_launch_refuses_a_database_it_cannot_use(
    good: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI checks the database before the app starts: one line, no app, no traceback."""
    from ccl_tui.commands import tui
    from ccl_tui.tui.app import CclApp

    launched: list[CclApp] = []
    monkeypatch.setattr(tui, "_require_tty", lambda: True)
    monkeypatch.setattr(CclApp, "run", lambda self, *a, **k: launched.append(self))
    empty = tmp_path / "no-sessions"
    empty.mkdir()
    for case, (make, expected) in DAMAGED.items():
        folder = tmp_path / case
        folder.mkdir()
        db = make(Path(shutil.copy(good, folder / "ccl.sqlite")), folder)
        code, out, err = run(capsys, "--db", str(db), "--sessions", str(empty))
        assert_one_line_error(code, out, err, expected)
        code, out, err = run(capsys, "demo", "--db", str(db), "--sessions", str(empty))
        assert_one_line_error(code, out, err, expected)
    assert launched == []
    code, _, err = run(capsys, "--db", str(good), "--sessions", str(empty))  # a good one launches
    assert code == 0 and len(launched) == 1 and err == ""


async def test_the_app_shows_the_message_instead_of_crashing(good: Path, tmp_path: Path) -> None:
    """Through ``make_app`` directly (tests, screenshots, ``serve``): the app stays up and says what is wrong."""
    from tests.tui_support import app_for, settle

    db = _garbage_header(good, tmp_path)
    app = app_for(db, tmp_path / "no-sessions")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.hub.state.phase == "error" and not app.hub.is_open
        assert app.hub.state.error is not None and "is not a SQLite database" in app.hub.state.error
        assert "\n" not in app.hub.state.error and "Traceback" not in app.hub.state.error
        assert any("is not a SQLite database" in str(n.message) for n in app._notifications)
        assert app.is_running


async def test_the_app_shows_a_read_only_database(good: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing is ingested or ranked: the app shows the stored issues and says why."""
    from textual.widgets import DataTable

    from tests.tui_support import app_for, wait_loaded

    monkeypatch.setattr(dbmod, "read_only_reason", lambda path: "the file is not writable")
    before = sha(good)
    sessions = tmp_path / "new-sessions"
    Rollout(start="2026-10-07T10:00:00").user("hello").complete().write(sessions)
    app = app_for(good, sessions)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(pilot)
        assert app.hub.state.phase == "ready" and app.hub.store.readonly
        assert app.hub.state.summary is None  # the new session folder was not ingested
        assert app.screen.query_one("#issues-table", DataTable).row_count > 0
        assert any("read-only" in str(n.message) for n in app._notifications)
    assert sha(good) == before


# ---------------------------------------------------------------------------------------------- read-only

READS = [
    ["sessions", "--json"],
    ["sessions"],
    ["show", SESSION],
    ["show", SESSION, "--json"],
    ["report", "--json"],
    ["report"],
    ["report", "--markdown"],
    ["report", "--json", "--origin", "all"],
    ["signals", "--json"],
    ["signals", SESSION],
    ["clusters", "--json"],
    ["improvement", "--json"],
    ["results", "list", "--json"],
]
WRITES = [
    ["ingest", "--json", str(SAMPLES)],
    ["analyze", "--json", "--embedder", "local"],
    ["fix", "1"],
    ["results", "import", str(SAMPLES)],
    ["results", "remove", "nope"],
]


def stored_counts(db: Path) -> tuple[int, int, int]:
    con = sqlite3.connect(f"file:{db}?immutable=1", uri=True)
    try:
        return tuple(con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("sessions", "signals", "issues"))  # type: ignore[return-value]
    finally:
        con.close()


def check_read_only(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], reason: str) -> None:
    before = sha(db)
    counts = stored_counts(db)
    for argv in READS:
        code, out, err = run(capsys, "--db", str(db), *argv)
        assert code == 0, (argv, err)
        assert "Traceback" not in err
        assert err.strip().splitlines() == [err.strip()] and err.startswith("ccl-tui: note: "), (argv, err)
        assert "read-only" in err and reason in err and "not brought up to date" in err
        if "--json" in argv:
            json.loads(out)
        else:
            assert out.strip()
    code, out, _ = run(capsys, "--db", str(db), "sessions", "--json")
    assert len(json.loads(out)) == counts[0] == 4
    code, out, _ = run(capsys, "--db", str(db), "report", "--json")
    assert json.loads(out)["total_issues"] == counts[2] > 0  # the stored ranking, as it is
    out_dir = tmp_path / "tasks-from-read-only"
    code, out, err = run(capsys, "--db", str(db), "task", "1", "--out", str(out_dir), "--json")
    assert code in (0, 1) and "Traceback" not in err and (out_dir.is_dir() and any(out_dir.iterdir()))
    for argv in WRITES:
        code, out, err = run(capsys, "--db", str(db), *argv)
        assert_one_line_error(code, out, err, f"`ccl-tui {argv[0]}", "read-only", reason)
        assert out == ""
    assert sha(db) == before and stored_counts(db) == counts  # pending signals were not computed, nothing written


@pytest.mark.parametrize("reason", ["the file is not writable", "its folder is not writable"])
def test_read_only_database_is_readable_by_every_read_command(
    reason: str, good: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Works as root too: the store is opened with SQLite's ``mode=ro`` (file not writable) or ``immutable=1``
    (folder not writable), so SQLite itself refuses any write the code might still attempt."""
    monkeypatch.setattr(dbmod, "read_only_reason", lambda path: reason)
    check_read_only(good, tmp_path, capsys, reason)
    if reason == "its folder is not writable":
        assert side_files(good) == []  # immutable: not even a -shm file


@pytest.fixture
def restore_mode(tmp_path: Path) -> Iterator[list[Path]]:
    changed: list[Path] = []
    yield changed
    for p in changed:
        p.chmod(0o755 if p.is_dir() else 0o644)


def test_read_only_file_mode_0444(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_mode: list[Path]
) -> None:
    good.chmod(0o444)
    restore_mode.append(good)
    if os.access(good, os.W_OK):
        pytest.skip("permissions are not enforced for this user (root); covered by the mode=ro test above")
    check_read_only(good, tmp_path, capsys, "the file is not writable")


def test_read_only_folder(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_mode: list[Path]
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    db = Path(shutil.move(good, folder / "ccl.sqlite"))
    folder.chmod(0o555)
    restore_mode.append(folder)
    if os.access(folder, os.W_OK):
        pytest.skip("permissions are not enforced for this user (root); covered by the immutable test above")
    check_read_only(db, tmp_path, capsys, "its folder is not writable")


def test_read_only_file_system(good: Path, tmp_path: Path) -> None:
    """``--db`` on a read-only file system, for real (a read-only bind mount in a private mount namespace, which
    binds root too). Skipped where mount namespaces are not allowed."""
    if not shutil.which("unshare") or not shutil.which("mount"):
        pytest.skip("needs unshare and mount")
    ro = tmp_path / "ro-fs"
    ro.mkdir()
    db = Path(shutil.move(good, ro / "ccl.sqlite"))
    results = tmp_path / "results"
    results.mkdir()
    before = sha(db)
    lines = [f"mount --bind {ro} {ro} && mount -o remount,ro,bind {ro} || exit 77"]
    runs = [*READS[:6], *WRITES[:3], ["sessions"]]
    for i, argv in enumerate(runs):
        target = db if i < len(runs) - 1 else ro / "new.sqlite"
        cmd = " ".join(f"'{a}'" for a in [sys.executable, "-m", "ccl_tui.cli", "--db", str(target), *argv])
        lines.append(f"{cmd} > {results}/{i}.out 2> {results}/{i}.err; echo $? > {results}/{i}.rc")
    script = tmp_path / "run.sh"
    script.write_text("\n".join(lines) + "\n")
    proc = subprocess.run(["unshare", "-m", "bash", str(script)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    if proc.returncode == 77 or "unshare failed" in proc.stderr or "Operation not permitted" in proc.stderr:
        pytest.skip(f"no private read-only mount here: {proc.stderr.strip()[:200]}")
    for i, argv in enumerate(runs):
        code = int((results / f"{i}.rc").read_text())
        out, err = (results / f"{i}.out").read_text(), (results / f"{i}.err").read_text()
        if i == len(runs) - 1:  # a new database cannot be created there
            assert_one_line_error(code, out, err, "no database at", "read-only file system")
        elif argv in READS:
            assert code == 0 and "read-only file system" in err and "Traceback" not in err, (argv, err)
        else:
            assert_one_line_error(code, out, err, f"`ccl-tui {argv[0]}", "read-only file system")
    assert sha(db) == before and sorted(p.name for p in ro.iterdir()) == ["ccl.sqlite"]


async def test_read_only_open_is_enforced_by_sqlite(good: Path) -> None:
    store = await Store.open(good, readonly=True)
    try:
        assert store.readonly and store.readonly_note and "read-only" in store.readonly_note
        assert len(await store.sessions()) == 4
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await store.db.execute("DELETE FROM sessions")
        with pytest.raises(StoreReadOnly):
            await store.migrate()
    finally:
        await store.close()


def test_read_only_edge_cases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(dbmod, "read_only_reason", lambda path: "its folder is not writable")
    code, out, err = run(capsys, "--db", str(tmp_path / "absent.sqlite"), "sessions")
    assert_one_line_error(code, out, err, "no database at", "none can be created")
    assert not (tmp_path / "absent.sqlite").exists()
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    code, out, err = run(capsys, "--db", str(empty), "report")
    assert_one_line_error(code, out, err, "holds no ccl-tui data yet")
    assert empty.read_bytes() == b""


# ---------------------------------------------------------------------------------------------- existing databases


def old_database(path: Path, version: int = 6) -> Path:
    """A database as ccl-tui wrote it before the application id (v7): migrations 1..version, marker unset."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    for i in range(version):
        con.executescript(MIGRATIONS[i])
        con.execute(f"PRAGMA user_version = {i + 1}")
    con.close()
    return path


def test_databases_from_before_the_marker_are_recognized_and_upgraded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = old_database(tmp_path / "v6.sqlite")
    code, _, err = run(capsys, "--db", str(db), "ingest", "--json", str(SAMPLES))
    assert code == 0, err
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    con.close()


def test_old_read_only_database_is_still_readable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = old_database(tmp_path / "v6.sqlite")
    monkeypatch.setattr(dbmod, "read_only_reason", lambda path: "the file is not writable")
    code, out, err = run(capsys, "--db", str(db), "sessions", "--json")
    assert code == 0 and json.loads(out) == [] and "older ccl-tui (schema v6" in err
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 6  # not upgraded
    con.close()


# ---------------------------------------------------------------------------------------------- concurrency

RACER = """
import sys, time
from pathlib import Path
import ccl_tui.cli, ccl_tui.commands.sessions, ccl_tui.store.db  # imported before the start signal
Path(sys.argv[3]).touch()
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.0005)
sys.exit(ccl_tui.cli.main(["--db", sys.argv[1], "sessions", "--json"]))
"""


def race(db: Path, n: int, tmp: Path) -> list[subprocess.CompletedProcess[str]]:
    """``n`` processes open ``db`` at the same moment (each waits, fully imported, for one start file)."""
    go = tmp / f"go-{db.name}"
    argv = [[sys.executable, "-c", RACER, str(db), str(go), str(tmp / f"ready-{db.name}-{i}")] for i in range(n)]
    procs = [subprocess.Popen(a, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT) for a in argv]
    deadline = time.monotonic() + 120
    while sum(1 for i in range(n) if (tmp / f"ready-{db.name}-{i}").exists()) < n:
        assert time.monotonic() < deadline, "racers did not start"
        time.sleep(0.01)
    go.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return results


def schema_of(db: Path) -> tuple[int, int, list[tuple[str, str]], str]:
    con = sqlite3.connect(db)
    try:
        return (
            con.execute("PRAGMA user_version").fetchone()[0],
            con.execute("PRAGMA application_id").fetchone()[0],
            con.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY 1, 2").fetchall(),
            con.execute("PRAGMA integrity_check").fetchone()[0],
        )
    finally:
        con.close()


async def test_opening_waits_for_another_writer_before_switching_to_wal(tmp_path: Path) -> None:
    """Another process is writing to a database still in rollback mode (it is creating it too): SQLite refuses
    the switch to WAL at once, without its busy handler. The open waits for the writer instead of failing
    (what a race of first opens ran into now and then)."""
    import threading

    db = tmp_path / "new.sqlite"
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock of the new, empty file
    released = threading.Timer(0.4, lambda: other.execute("ROLLBACK"))
    released.start()
    t0 = time.monotonic()
    try:
        store = await Store.open(db)
        await store.close()
    finally:
        released.join()
        other.close()
    assert time.monotonic() - t0 >= 0.35  # it waited for the writer
    assert schema_of(db)[:2] == (SCHEMA_VERSION, APPLICATION_ID)


async def test_concurrent_first_opens_never_race(tmp_path: Path) -> None:
    reference = tmp_path / "reference.sqlite"
    await (await Store.open(reference)).close()
    expected = schema_of(reference)
    assert expected[:2] == (SCHEMA_VERSION, APPLICATION_ID) and expected[3] == "ok"
    rounds = [tmp_path / f"fresh-{i}.sqlite" for i in range(4)]
    rounds.append(old_database(tmp_path / "upgrade.sqlite"))  # an upgrade raced the same way
    for db in rounds:
        results = race(db, 8, tmp_path)
        for r in results:
            assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
            assert json.loads(r.stdout) == []
        assert schema_of(db) == expected, db.name
