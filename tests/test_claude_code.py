"""Claude Code sessions through the same loop: discovery, ingest, detection, ranking, lists, the TUI.

The files in tests/fixtures/claude_real were written by Claude Code (origins in their ORIGINS.md); what each
holds is annotated in tests/gold/claude, written from the raw lines. One synthetic file below (a `pytest`
failure Codex also hit) shows a failure grouping across agents; it says so where it is made.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ccl_tui.cli import main
from ccl_tui.model.events import EventKind
from ccl_tui.pipeline import ranked_issues, refresh
from ccl_tui.scope import scope_from
from ccl_tui.sources.claude_code import subagent_id
from ccl_tui.sources.discover import discover
from ccl_tui.sources.parse import parse_file
from ccl_tui.store.db import Store
from ccl_tui.store.ingest import ingest
from tests.builders import Rollout
from tests.gold.make_gold import PYTEST_MISSING
from tests.tui_support import app_for, screen_text, settle, wait_loaded

ROOT = Path(__file__).resolve().parent.parent
CLAUDE = ROOT / "tests" / "fixtures" / "claude_real"
SAMPLES = ROOT / "tests" / "fixtures" / "codex_samples"
K = EventKind
SIZE = (150, 44)


def claude_files() -> list[Path]:
    return sorted(CLAUDE.glob("*.jsonl"))


def make_claude_home(home: Path, files: list[Path] | None = None) -> Path:
    """A Claude Code home as Claude Code lays it out: projects/<encoded cwd>/<file>."""
    project = home / "projects" / "-home-dev-proj"
    project.mkdir(parents=True, exist_ok=True)
    for f in files if files is not None else claude_files():
        shutil.copy(f, project / f.name)
    (home / "todos").mkdir(exist_ok=True)
    (home / "todos" / "x.json").write_text("[]")  # not a session: never read
    return home


def make_codex_home(home: Path) -> Path:
    day = home / "sessions" / "2026" / "10" / "01"
    day.mkdir(parents=True, exist_ok=True)
    for f in sorted(SAMPLES.glob("*.jsonl")):
        shutil.copy(f, day / f"rollout-{f.name}")  # Codex's own naming: sessions/ holds rollout-*.jsonl
    return home


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code = main(list(argv))
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


# ---------------------------------------------------------------------------------------------- discovery
def test_both_homes_are_discovered_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    codex = make_codex_home(tmp_path / "codex")
    claude = make_claude_home(tmp_path / "claude")
    monkeypatch.setenv("CODEX_HOME", str(codex))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    found = discover()
    names = sorted(Path(p).name for p in found.paths)
    assert names == sorted([f"rollout-{f.name}" for f in SAMPLES.glob("*.jsonl")] + [f.name for f in claude_files()])
    assert found.skipped == []
    # a Claude home named explicitly reads its projects only (todos/, settings are not sessions)
    assert len(discover([claude]).paths) == len(claude_files())


def test_a_missing_claude_home_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_HOME", str(make_codex_home(tmp_path / "codex")))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "no-such-dir"))
    found = discover()
    assert len(found.paths) == len(list(SAMPLES.glob("*.jsonl"))) and found.skipped == []


# ---------------------------------------------------------------------------------------------- parsing
@pytest.mark.parametrize("path", claude_files(), ids=[p.stem for p in claude_files()])
def test_every_line_of_a_real_file_is_read(path: Path) -> None:
    r = parse_file(str(path))
    assert r.error is None and r.bad == []
    lines = [ln for ln in path.read_bytes().split(b"\n") if ln.strip()]
    assert r.lines == len(lines)
    assert r.session is not None and r.session.era == "claude" and r.session.originator == "claude_code"
    first = json.loads(next(ln for ln in lines if b'"sessionId"' in ln))
    if not first.get("isSidechain"):
        assert r.session.id == first["sessionId"]
    assert r.session.cwd == next(json.loads(ln)["cwd"] for ln in lines if b'"cwd"' in ln)


def test_a_sub_agent_transcript_is_its_own_session_under_its_parent() -> None:
    r = parse_file(str(CLAUDE / "codemie_2_1_7_subagent_a485154.jsonl"))
    parent = parse_file(str(CLAUDE / "codemie_2_1_7_task_parent.jsonl"))
    assert r.session is not None and parent.session is not None
    assert r.session.id == subagent_id(parent.session.id, "a485154") != parent.session.id
    assert r.session.parent_id == parent.session.id
    assert r.session.origin == "subagent" and parent.session.origin == "interactive"


def test_a_file_continued_from_an_offset_gives_the_same_events_as_one_read() -> None:
    """Claude Code appends as the session goes: the second ingest continues with the saved parser state."""
    path = CLAUDE / "entire_2_1_29_exit1_reject_interrupt.jsonl"
    data = path.read_bytes()
    whole = parse_file(str(path))
    cut = data.index(b"\n", len(data) // 2) + 1
    tmp = path.parent.parent / "_half.jsonl"
    try:
        tmp.write_bytes(data[:cut])
        first = parse_file(str(tmp))
        tmp.write_bytes(data)
        rest = parse_file(str(tmp), first.end_offset, first.lines, first.state)
    finally:
        tmp.unlink(missing_ok=True)

    def shape(rows: list[tuple]) -> list[tuple]:
        return [(r[1], r[2], r[4], r[6], r[7], r[12], r[13]) for r in rows]  # seq kind line turn call exit success

    assert shape(first.rows + rest.rows) == shape(whole.rows)


# ---------------------------------------------------------------------------------------------- the loop
async def test_a_mixed_corpus_ingests_in_one_run_and_ranks_by_agent(tmp_path: Path) -> None:
    codex = make_codex_home(tmp_path / "codex")
    claude = make_claude_home(tmp_path / "claude")
    store = await Store.open(tmp_path / "mixed.sqlite")
    try:
        summary = await ingest(store, [codex, claude])
        assert summary.errors == [] and summary.malformed == 0
        assert summary.new == len(list(SAMPLES.glob("*.jsonl"))) + len(claude_files())
        await refresh(store)
        issues = await ranked_issues(store, scope_from("all"))
        claude_only = await ranked_issues(store, scope_from("all", agent="claude_code"))
        codex_only = await ranked_issues(store, scope_from("all", agent="codex"))
    finally:
        await store.close()
    assert {a for i in issues for a in i.agents} == {"codex", "claude_code"}
    assert claude_only and all(set(i.agents) == {"claude_code"} for i in claude_only)
    assert codex_only and all(set(i.agents) == {"codex"} for i in codex_only)
    kinds = {i.kind for i in claude_only}
    assert {"command_failure", "patch_failure", "denial", "interrupt", "error"} <= kinds, kinds


def _claude_pytest_failure(path: Path) -> None:
    """SYNTHETIC (no real Claude Code file in the fixtures runs pytest into a missing module): a Bash call
    whose result is the same pytest ModuleNotFoundError the Codex gold builder writes."""
    sid = "5e1f0c7a-2b1d-4c55-9a77-0d3f5b1e9c21"
    base = {"sessionId": sid, "cwd": "/home/dev/billing-api", "version": "2.1.29", "gitBranch": "main"}
    lines = [
        {**base, "type": "user", "uuid": "u1", "parentUuid": None, "timestamp": "2026-10-02T09:00:00.000Z",
         "message": {"role": "user", "content": "run the tests"}},
        {**base, "type": "assistant", "uuid": "a1", "parentUuid": "u1", "timestamp": "2026-10-02T09:00:04.000Z",
         "message": {"id": "msg_1", "role": "assistant", "model": "claude-sonnet-4-5", "stop_reason": "tool_use",
                     "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash",
                                  "input": {"command": "pytest -q"}}],
                     "usage": {"input_tokens": 12, "output_tokens": 30}}},
        {**base, "type": "user", "uuid": "u2", "parentUuid": "a1", "timestamp": "2026-10-02T09:00:09.000Z",
         "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                                  "is_error": True, "content": "Exit code 1\n" + PYTEST_MISSING}]}},
    ]  # fmt: skip
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))


def _both_agents_hit_pytest(tmp_path: Path) -> tuple[Path, Path]:
    """A Codex session and a (synthetic) Claude Code session whose `pytest -q` fails on the same missing module;
    returns (the Codex folder, the Claude Code project folder)."""
    codex = tmp_path / "codex"
    r = Rollout(start="2026-10-01T09:00:00", cwd="/home/dev/billing-api")
    r.user("run the tests")
    r.exec("pytest -q", PYTEST_MISSING, 1)
    r.write(codex)
    claude = tmp_path / "claude" / "projects" / "-home-dev-billing-api"
    claude.mkdir(parents=True)
    _claude_pytest_failure(claude / "5e1f0c7a-2b1d-4c55-9a77-0d3f5b1e9c21.jsonl")
    return codex, claude


async def test_the_same_failure_is_one_issue_whichever_agent_hit_it(tmp_path: Path) -> None:
    codex, _claude = _both_agents_hit_pytest(tmp_path)
    store = await Store.open(tmp_path / "both.sqlite")
    try:
        await ingest(store, [codex, tmp_path / "claude"])
        await refresh(store)
        issues = await ranked_issues(store)
    finally:
        await store.close()
    pytest_issues = [i for i in issues if i.signature.startswith("pytest | ModuleNotFoundError")]
    assert len(pytest_issues) == 1
    assert pytest_issues[0].agents == {"codex": 1, "claude_code": 1}


def test_report_and_sessions_carry_the_agent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEX_HOME", str(make_codex_home(tmp_path / "codex")))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(make_claude_home(tmp_path / "claude")))
    db = str(tmp_path / "cli.sqlite")
    ingested = run(capsys, "ingest", "--json", "--db", db)  # both homes, by default
    assert ingested["new"] == len(list(SAMPLES.glob("*.jsonl"))) + len(claude_files())
    report = run(capsys, "report", "--json", "--top", "0", "--origin", "all", "--db", db)
    assert all(set(i["agents"]) <= {"codex", "claude_code"} and i["agents"] for i in report["issues"])
    assert sum(i["agents"].get("claude_code", 0) for i in report["issues"]) > 0
    only = run(capsys, "report", "--json", "--top", "0", "--origin", "all", "--agent", "claude_code", "--db", db)
    assert only["issues"] and all(set(i["agents"]) == {"claude_code"} for i in only["issues"])
    assert "agent: claude_code" in only["scope"]["description"]
    code = main(["report", "--markdown", "--top", "0", "--origin", "all", "--db", db])
    md = capsys.readouterr().out
    assert code == 0 and "- sessions by agent: Claude Code " in md
    listed = run(capsys, "sessions", "--json", "--agent", "claude_code", "--db", db)
    assert len(listed) == len(claude_files()) and {s["agent"] for s in listed} == {"claude_code"}
    everything = run(capsys, "sessions", "--json", "--db", db)
    assert {s["agent"] for s in everything} == {"codex", "claude_code"}
    monkeypatch.setenv("COLUMNS", "120")
    code = main(["sessions", "--db", db])
    table = capsys.readouterr().out
    assert code == 0 and "claude_code" in table and "agent" in table.splitlines()[0]
    rows = [line for line in table.splitlines()[1:] if "claude_code" in line]
    assert len(rows) == len(claude_files())
    assert all(("interactive" in line or "subagent" in line) and line.rstrip()[-1].isdigit() for line in rows)


async def test_the_tui_shows_a_claude_code_transcript_at_its_evidence(tmp_path: Path) -> None:
    from ccl_tui.tui.screens.transcript import TranscriptScreen

    home = make_claude_home(tmp_path / "claude", [CLAUDE / "entire_2_1_29_exit1_reject_interrupt.jsonl"])
    app = app_for(tmp_path / "tui.sqlite", home)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        issues = await ranked_issues(app.hub.store, scope_from("all"))
        failure = next(i for i in issues if i.kind == "command_failure")
        ev = failure.evidence[0]
        app.push_screen(TranscriptScreen(ev.session_id, ev.seq))
        await settle(pilot)
        text = screen_text(app)
    assert "mise run test" in text
    assert "exit 1" in text
    assert "Claude Code interactive" in text and "branch gtrrz-victor/adds-entire-reset-command" in text


async def test_the_issue_list_filters_by_agent_once_claude_code_sessions_are_in(tmp_path: Path) -> None:
    from textual.widgets import Select

    from ccl_tui.tui.screens.issue import IssueScreen

    _codex, claude = _both_agents_hit_pytest(tmp_path)
    for f in ("entire_2_1_29_exit1_reject_interrupt.jsonl", "kimuson_1_0_108_inline_sidechain.jsonl"):
        shutil.copy(CLAUDE / f, claude / f)
    app = app_for(tmp_path / "tui.sqlite", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        agent = app.screen.query_one("#filter-agent", Select)
        assert not agent.has_class("hidden")
        table = app.screen.query_one("#issues-table")
        everything = table.row_count
        agent.value = "codex"
        await settle(pilot)
        assert 0 < table.row_count < everything
        shown_codex = table.row_count
        agent.value = "claude_code"
        await settle(pilot)
        # the pytest failure both agents hit is in both lists; every other issue in one of them
        assert 0 < table.row_count <= everything and table.row_count + shown_codex == everything + 1
        agent.clear()
        await settle(pilot)
        assert table.row_count == everything
        issue = next(i for i in await app.hub.issues() if i.signature.startswith("pytest | ModuleNotFoundError"))
        app.push_screen(IssueScreen(issue.id))
        await settle(pilot)
        assert "sessions by agent: Codex 1, Claude Code 1" in screen_text(app)


async def test_a_codex_only_store_shows_no_agent_filter(tmp_path: Path) -> None:
    from textual.widgets import Select

    codex = tmp_path / "codex"
    r = Rollout(start="2026-10-01T09:00:00")
    r.user("run the tests")
    r.exec("pytest -q", PYTEST_MISSING, 1)
    r.write(codex)
    app = app_for(tmp_path / "tui.sqlite", codex)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        assert app.screen.query_one("#filter-agent", Select).has_class("hidden")


# ---------------------------------------------------------------------------------------------- Harbor tasks
def _claude_session(path: Path, cwd: str, steps: list[tuple[str, dict[str, Any], str, bool]]) -> str:
    """SYNTHETIC: a Claude Code session in cwd (branch main, January 2027: after the repository's first
    commit) whose tool calls are ``steps``: (tool, input, result text, is_error)."""
    sid = "7a0c2d4e-1111-4c3b-9d2e-5f6a7b8c9d0e"
    base = {"sessionId": sid, "cwd": cwd, "version": "2.1.29", "gitBranch": "main", "isSidechain": False}
    lines: list[dict[str, Any]] = []

    def add(rtype: str, **kw: Any) -> None:
        n = len(lines) + 1
        lines.append({**base, "type": rtype, "uuid": f"u{n}", "timestamp": f"2027-01-05T10:00:{n:02d}.000Z", **kw})

    add("user", message={"role": "user", "content": "fix add() and add a sub() helper with its test"})
    for i, (tool, args, result, error) in enumerate(steps):
        use = {"type": "tool_use", "id": f"toolu_{i}", "name": tool, "input": args}
        add(
            "assistant",
            message={
                "id": f"msg_{i}",
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [use],
                "stop_reason": "tool_use",
                "usage": {"input_tokens": 5},
            },
        )
        add("user", message={"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"toolu_{i}",
                                                          "content": result, "is_error": error}]})  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return sid


def _commit_after_the_session(repo: Path) -> None:
    """A later commit on the same branch (March 2027): HEAD, but not where the session started."""
    import os
    import subprocess

    from tests.tasks_helpers import GIT_ENV

    when = {"GIT_AUTHOR_DATE": "2027-03-01T00:00:00Z", "GIT_COMMITTER_DATE": "2027-03-01T00:00:00Z"}
    (repo / "CHANGES.md").write_text("after the session\n")
    for args in (["add", "-A"], ["commit", "-q", "-m", "after the session"]):
        subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT_ENV, **when}, check=True, capture_output=True)


async def test_a_claude_code_task_starts_at_the_inferred_commit_and_execute_proves_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claude Code records the branch, not the commit: the task starts at the branch's last commit before the
    session, with the session's Write replayed and its Edits (on the commit's files) as the solution. The
    recorded failure cannot vouch for an inferred start, so the task is unproven until --execute runs it."""
    from ccl_tui.tasks.api import write_task_for_signal
    from ccl_tui.tasks.check import check_path, prepare_repo
    from tests.tasks_helpers import BUGGY_CALC, PYTEST, TEST_CALC, make_repo, python_on_path

    monkeypatch.setenv("PATH", python_on_path())
    repo, first = make_repo(tmp_path / "calc", {"calc.py": BUGGY_CALC, "tests/test_calc.py": TEST_CALC})
    _commit_after_the_session(repo)
    test_sub = "from calc import sub\n\n\ndef test_sub():\n    assert sub(5, 3) == 2\n"
    sid = _claude_session(
        tmp_path / "claude" / "projects" / "-calc" / "s.jsonl",
        str(repo),
        [
            ("Write", {"file_path": str(repo / "tests" / "test_sub.py"), "content": test_sub},
             f"File created successfully at: {repo}/tests/test_sub.py", False),
            ("Bash", {"command": PYTEST}, "Exit code 1\nFAILED tests/test_calc.py::test_add - assert -1 == 5", True),
            ("Edit", {"file_path": str(repo / "calc.py"), "old_string": "    return a - b",
                      "new_string": "    return a + b"}, "The file calc.py has been updated.", False),
            ("Edit", {"file_path": str(repo / "calc.py"), "old_string": "def mul(a, b):",
                      "new_string": "def sub(a, b):\n    return a - b\n\n\ndef mul(a, b):"},
             "The file calc.py has been updated.", False),
            ("Bash", {"command": PYTEST}, "2 passed in 0.01s", False),
        ],
    )  # fmt: skip
    store = await Store.open(tmp_path / "tasks.sqlite")
    try:
        await ingest(store, [tmp_path / "claude"])
        await refresh(store)
        (sig,) = await store.signals(sid, kinds=["command_failure"])
        result = await write_task_for_signal(store, sid, sig.seq, tmp_path / "tasks")
    finally:
        await store.close()
    import tomllib

    meta = tomllib.loads((result.path / "task.toml").read_text())["metadata"]
    assert meta["repository"]["commit"] == first  # not the later HEAD
    assert meta["source_agent"] == "claude_code" and meta["category"] == "claude-code-friction"
    assert meta["contract"]["class"] == "unproven" and "inferred" in meta["contract"]["reason"]
    assert any("inferred" in n for n in meta["notes"])
    assert "Claude Code session" in (result.path / "instruction.md").read_text()
    app = tmp_path / "prepared"
    prepare_repo(result.path, app)
    assert (app / "tests" / "test_sub.py").read_text() == test_sub  # the session's Write, in the start state
    assert (app / "calc.py").read_text() == BUGGY_CALC  # its Edits are the solution, not the start
    assert not (app / "CHANGES.md").exists()
    (ran,) = check_path(result.path, run=True)
    assert (ran.reward_before, ran.reward_after, ran.klass) == (0.0, 1.0, "proven-fix"), ran.note


async def test_a_task_from_a_real_claude_code_session_without_its_checkout(tmp_path: Path) -> None:
    """`mise run test` failed, then passed after the agent's Edits (entire_2_1_29, lines 16 and 47). Its checkout is
    not on this machine and Claude Code recorded no commit: the task needs the repository and is not a proven
    fix, however clearly the session recorded the failure."""
    from ccl_tui.tasks.api import write_task_for_signal

    home = make_claude_home(tmp_path / "claude", [CLAUDE / "entire_2_1_29_exit1_reject_interrupt.jsonl"])
    store = await Store.open(tmp_path / "real.sqlite")
    try:
        await ingest(store, [home])
        await refresh(store)
        sid = "1ecba475-5b18-4058-a0cb-e87703f6f792"
        sig = next(s for s in await store.signals(sid, kinds=["command_failure"]) if "mise" in s.signature)
        result = await write_task_for_signal(store, sid, sig.seq, tmp_path / "tasks")
    finally:
        await store.close()
    import tomllib

    meta = tomllib.loads((result.path / "task.toml").read_text())["metadata"]
    assert meta["source_agent"] == "claude_code" and meta["verifier"]["command"] == "mise run test"
    assert meta["needs_repository"] is True and meta["repository"]["branch"] == "gtrrz-victor/adds-entire-reset-command"
    assert meta["contract"]["class"] == "unproven" and "no commit" in meta["contract"]["reason"]
    assert "from a recorded Claude Code session" in (result.path / "instruction.md").read_text()


@pytest.mark.parametrize("name", ["entire_2_0_76_compaction.jsonl", "codemie_2_1_7_subagent_a485154.jsonl"])
def test_token_counts_are_per_api_message_and_leave_out_cached_context(name: str) -> None:
    """Claude Code repeats a message's usage on every content-block line: counted once per message id. Friction
    costs count new input plus output (cache reads are the same context sent again), as for Codex."""
    lines = [json.loads(ln) for ln in (CLAUDE / name).read_text().splitlines() if ln.strip()]
    usage: dict[str, dict[str, int]] = {}
    for r in lines:
        msg = r.get("message")
        if r.get("type") == "assistant" and isinstance(msg, dict) and isinstance(msg.get("usage"), dict):
            usage.setdefault(msg["id"], msg["usage"])
    fresh = sum(u.get("input_tokens", 0) + u.get("cache_creation_input_tokens", 0) + u.get("output_tokens", 0)
                for u in usage.values())  # fmt: skip
    r = parse_file(str(CLAUDE / name))
    counts = [json.loads(row[16]) for row in r.rows if row[2] == "token_count"]
    assert len(counts) == len(usage) > 1
    assert counts[-1]["fresh"] == fresh < counts[-1]["total"]


def test_a_damaged_or_half_written_claude_code_file_loses_only_the_bad_line(tmp_path: Path) -> None:
    """A malformed line is skipped and counted; a last line Claude Code is still writing is left for the next
    read, which continues from the offset and reads it whole."""
    lines = (CLAUDE / "entire_2_1_12_lint_exit1.jsonl").read_bytes().split(b"\n")
    body = [ln for ln in lines if ln.strip()]
    damaged = b"\n".join([*body[:5], b'{"type":"user","message":', *body[5:-1]]) + b"\n"
    path = tmp_path / "s.jsonl"
    path.write_bytes(damaged + body[-1][:40])  # the last record half written
    first = parse_file(str(path))
    assert [b.line for b in first.bad] == [6] and first.pending_bytes == 40
    assert first.lines == len(body)  # every complete line, the bad one included
    path.write_bytes(damaged + body[-1] + b"\n")
    rest = parse_file(str(path), first.end_offset, first.lines, first.state)
    assert rest.bad == [] and rest.pending_bytes == 0 and rest.lines == len(body) + 1
    whole = parse_file(str(CLAUDE / "entire_2_1_12_lint_exit1.jsonl"))
    assert len(first.rows) + len(rest.rows) == len(whole.rows)


def test_streamed_progress_is_not_an_event_and_file_snapshots_are_checkpoints() -> None:
    """`progress` records stream a running command's output (its tool_result holds it whole): no event, as for
    Codex's output deltas. `file-history-snapshot` is Claude Code's undo checkpoint: a snapshot event."""
    path = CLAUDE / "entire_2_1_29_exit1_reject_interrupt.jsonl"
    records = {n: json.loads(ln) for n, ln in enumerate(path.read_text().splitlines(), 1) if ln.strip()}
    first = min(n for n, r in records.items() if "sessionId" in r)  # what comes before names no session
    progress = {n for n, r in records.items() if r["type"] == "progress"}
    snapshots = {n for n, r in records.items() if r["type"] == "file-history-snapshot" and n > first}
    assert progress and snapshots
    r = parse_file(str(path))
    lines_of = {row[4]: row[2] for row in r.rows}
    assert not progress & set(lines_of)
    assert {n for n, kind in lines_of.items() if kind == "snapshot"} == snapshots
