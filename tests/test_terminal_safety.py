"""Untrusted session text never reaches the terminal as a control sequence (issue 13, item 8).

Every class of terminal control sequence is planted into every session field a user can see, then every
output path runs: the CLI (``show``, ``show --full``, ``report``, ``report --markdown``, ``report --json``,
``signals``, ``signals --json``, ``sessions``, ``sessions --json``, ``show --json``) and the TUI (issues table
and score breakdown, every issue screen, both transcripts with all records and every fold open, clusters,
improvement, every demo stage). No control byte, escape sequence, bidi override or zero-width character from
the data may come out, and the tagged fields must still be visible (so the check is not vacuous).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text
from textual.app import App
from textual.widgets import DataTable

from ccl_tui.cli import main
from ccl_tui.text.ansi import UNSAFE_CHARS, strip_control, terminal_safe
from tests.builders import Rollout
from tests.tui_support import app_for, screen_text, settle, wait_loaded

# One of each: what a log can carry that a terminal would act on, or that hides/reorders what a reader sees.
HOSTILE = (
    "\x1b[31m\x1b[2J\x1b[1A"  # CSI: colour, clear screen, cursor up
    "\x1b]52;c;cHduZWQ=\x07"  # OSC 52 clipboard write, BEL-terminated
    "\x1b]52;c;cHduZWQ=\x1b\\"  # OSC 52, ST-terminated
    "\x1b]0;pwned title\x07"  # OSC 0 window title
    "\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\"  # OSC 8 hyperlink
    "\x1bP1$qm\x1b\\"  # DCS (DECRQSS: makes the terminal answer on stdin)
    "\x1b^pm\x1b\\\x1b_apc\x1b\\"  # PM, APC
    "\x9b31m\x9b2J"  # 8-bit CSI
    "\x9d52;c;cHduZWQ=\x07\x9d0;title\x9c"  # 8-bit OSC (BEL / 8-bit ST)
    "\x90q#0\x9c"  # 8-bit DCS (sixel)
    "\x1bc\x1b7\x1b8\x1b"  # RIS (full reset), save/restore cursor, a lone ESC
    " \x07\x08\x7f\x00\x05\x0b\x0c\x85\x8d"  # BEL, BS, DEL, NUL, ENQ, VT, FF, C1 NEL and RI
    "ok\rFAKE"  # carriage-return overwrite
    " \u202eevil\u202c \u2066iso\u2069 \u2067\u2068\u200f\u200e\u061c"  # bidi overrides, isolates, marks
    " zero\u200bwidth\u2060\ufeff\U000e0041"  # zero-width space, word joiner, BOM, a tag character
)
FORBIDDEN = re.compile(f"[{UNSAFE_CHARS}]")


def assert_clean(text: str, where: str) -> None:
    m = FORBIDDEN.search(text)
    assert m is None, f"{where}: {m.group()!r} at {m.start()}: {text[max(0, m.start() - 60) : m.end() + 60]!r}"


def tag(name: str) -> str:
    return f"{name}{HOSTILE}"


def hostile_home(root: Path) -> tuple[Path, list[Rollout]]:
    """Two sessions with a hostile value in every field a user sees (and failures and a correction in each, so
    they become issues and signals)."""
    home = root / "home"
    rollouts = []
    for i in range(2):
        r = Rollout(
            start=f"2026-10-0{i + 1}T09:00:00",
            cwd=f"/home/dev/src/CWDX{HOSTILE}",
            originator=f"codex-tui-ORIGX{HOSTILE}",
            cli_version=f"VERX{HOSTILE}",
            git={
                "commit_hash": f"c8c252a{HOSTILE}",
                "branch": tag("BRANCHX"),
                "repository_url": f"git@github.com:acme/{HOSTILE}REPOX.git",
            },
            model=tag("MODELX"),
        )
        r.user(f"USERX {HOSTILE} please fix the failing tests")
        r.reasoning(f"REASONX {HOSTILE}")
        r.exec(f"pytest -q CMDX{HOSTILE}", f"E   ValueError: OUTX {HOSTILE}\n1 failed", 1)
        cid = r.call_id()
        r.add(
            "response_item",
            {
                "type": "function_call",
                "name": tag("TOOLX"),
                "call_id": cid,
                "arguments": json.dumps({"cmd": f"TOOLCMDX {HOSTILE}"}),
            },
        )
        r.add("response_item", {"type": "function_call_output", "call_id": cid, "output": f"TOOLOUTX {HOSTILE}"})
        cid = r.call_id()
        r.add(
            "event_msg",
            {
                "type": "mcp_tool_call_end",
                "call_id": cid,
                "turn_id": r.turn_id,
                "invocation": {"server": tag("MCPSRVX"), "tool": tag("MCPTOOLX"), "arguments": {}},
                "result": {"Err": f"MCPERRX {HOSTILE}"},
            },
        )
        r.assistant(f"ASSTX {HOSTILE}")
        r.error(f"ERRX {HOSTILE}", info=tag("INFOX"))
        r.add("event_msg", {"type": tag("ETYPEX"), "value": f"EVALX {HOSTILE}"})  # an unknown event type
        r.add(tag("RTYPEX"), {"value": f"RVALX {HOSTILE}"})  # an unknown record type
        r.abort(tag("ABORTX"))
        r.user(f"no, that's wrong USER2X {HOSTILE}")
        r.deny(f"rm -rf DENYX{HOSTILE}")
        r.patch(f"PATCHX{HOSTILE}.py", ok=False)
        r.complete()
        r.write(home)
        rollouts.append(r)
    return home, rollouts


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(list(argv))
    out = capsys.readouterr()
    assert code == 0, (argv, out.err)
    assert_clean(out.err, f"{argv} stderr")
    return out.out


@pytest.fixture
def hostile_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, list[Rollout]]:
    home, rollouts = hostile_home(tmp_path)
    db = str(tmp_path / "hostile.sqlite")
    run(capsys, "ingest", "--db", db, "--json", str(home))
    return db, rollouts


# ---------------------------------------------------------------------------------------------- building blocks
def test_terminal_safe_removes_every_class() -> None:
    out = terminal_safe(f"a{HOSTILE}b")
    assert_clean(out, "terminal_safe")
    assert out.startswith("a") and out.endswith("b")
    assert "ok\nFAKE" in out  # a carriage return cannot overwrite what came before it
    assert "evil" in out and "zerowidth" in out  # only the invisible characters go
    assert terminal_safe("plain\ttext\nline") == "plain\ttext\nline"
    assert terminal_safe("emoji \u200d joiner") == "emoji \u200d joiner"  # joiners stay (scripts, emoji)
    assert terminal_safe(terminal_safe(HOSTILE)) == terminal_safe(HOSTILE)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", strip_control(HOSTILE))  # ingest's full strip too


def test_console_boundary_cleans_every_segment() -> None:
    """Whatever a command builds (Text with or without spans, str, tables, log lines), the console writes no
    control byte from it."""
    from rich.table import Table

    from ccl_tui.commands.common import console

    con = console()
    buf = io.StringIO()
    con.file = buf
    t = Table()
    t.add_column("a")
    t.add_row(Text(HOSTILE), HOSTILE)
    spans = Text.assemble(("bold", "bold"), HOSTILE, (HOSTILE, "red"))
    con.print(Text(HOSTILE, style="bold"), HOSTILE, t, spans)
    con.print(HOSTILE, soft_wrap=True)
    con.log(HOSTILE)
    assert_clean(buf.getvalue(), "console")
    assert "evil" in buf.getvalue()


def test_json_output_escapes_every_control(capsys: pytest.CaptureFixture[str]) -> None:
    from ccl_tui.commands.common import print_json

    print_json({"v": HOSTILE, HOSTILE: [HOSTILE]})
    out = capsys.readouterr().out
    assert_clean(out, "print_json")
    assert json.loads(out) == {"v": HOSTILE, HOSTILE: [HOSTILE]}  # lossless: only escaped


# ---------------------------------------------------------------------------------------------- CLI
def test_cli_outputs_carry_no_control_sequence(
    hostile_db: tuple[str, list[Rollout]], capsys: pytest.CaptureFixture[str]
) -> None:
    db, rollouts = hostile_db
    sid = rollouts[0].id
    outputs = {
        "show": run(capsys, "show", "--db", db, sid[:13]),
        "show --full": run(capsys, "show", "--db", db, sid[:13], "--full"),
        "show --json": run(capsys, "show", "--db", db, sid[:13], "--json"),
        "report": run(capsys, "report", "--db", db, "--origin", "all", "--explain", "10"),
        "report --markdown": run(capsys, "report", "--db", db, "--origin", "all", "--markdown"),
        "report --json": run(capsys, "report", "--db", db, "--origin", "all", "--json"),
        "signals": run(capsys, "signals", "--db", db),
        "signals --json": run(capsys, "signals", "--db", db, "--json"),
        "sessions": run(capsys, "sessions", "--db", db),
        "sessions --json": run(capsys, "sessions", "--db", db, "--json"),
    }
    for name, out in outputs.items():
        assert_clean(out, name)
    for name in ("show --json", "report --json", "signals --json", "sessions --json"):
        json.loads(outputs[name])
    # not vacuous: the hostile fields are shown, only their control sequences are gone
    full = outputs["show --full"]
    for field in (
        "CWDX",
        "MODELX",
        "REPOX",
        "USERX",
        "REASONX",
        "CMDX",
        "TOOLX",
        "TOOLCMDX",
        "TOOLOUTX",
        "MCPSRVX",
        "MCPTOOLX",
        "MCPERRX",
        "ASSTX",
        "ERRX",
        "ETYPEX",
        "RTYPEX",
        "RVALX",
        "ABORTX",
        "USER2X",
        "DENYX",
        "PATCHX",
    ):
        assert field in full, field
    assert "MODELX" in outputs["show"] and "TOOLX" in outputs["show"] and "ABORTX" in outputs["show"]
    for name, fields in (
        ("report", ("CMDX", "REPOX", "MCPSRVX", "DENYX")),
        ("report --markdown", ("CMDX", "MCPSRVX")),
        ("report --json", ("CMDX", "MCPSRVX")),
        ("signals", ("MCPSRVX", "INFOX")),
        ("signals --json", ("CMDX", "MCPSRVX")),
    ):
        for field in fields:
            assert field in outputs[name], (name, field)
    assert "evil" in outputs["sessions"] and "REPOX" in outputs["sessions --json"]
    # JSON keeps the data, escaped
    assert "\\u001b" in outputs["show --json"] and "\\u009b" in outputs["show --json"]


# ---------------------------------------------------------------------------------------------- TUI
SIZE = (140, 42)
_TEXTUAL_OWN = re.compile(r"\x1b\[[0-9;]*[mHf]")  # the compositor's own colours and cursor moves


def frame(app: App[object], where: str) -> str:
    """The current screen, checked three ways: as text (what a user reads), as the raw segments the compositor
    hands to the terminal, and as the bytes written for them (Textual's own colour/cursor codes excepted)."""
    text = screen_text(app)
    assert_clean(text, f"{where}: screen text")
    width, height = app.size
    con = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        legacy_windows=False,
    )
    update = app.screen._compositor.render_update(full=True)
    for segment in con.render(update):
        if not segment.control:
            assert_clean(segment.text, f"{where}: compositor segment")
    con.print(update)
    written = _TEXTUAL_OWN.sub("", con.file.getvalue())  # type: ignore[attr-defined]
    assert "\x1b" not in written and not FORBIDDEN.search(written.replace("\r", "")), where
    for line in text.splitlines():  # cleaning kept every line's width: nothing after a removed sequence moved
        assert cell_len(line) <= width, (where, line)
    return text


async def test_tui_shows_no_control_sequence(tmp_path: Path) -> None:
    from ccl_tui.tui.screens.clusters import ClustersScreen
    from ccl_tui.tui.screens.demo import STAGES, DemoScreen
    from ccl_tui.tui.screens.issue import IssueScreen
    from ccl_tui.tui.screens.issues import IssuesScreen
    from ccl_tui.tui.screens.transcript import TranscriptScreen
    from ccl_tui.tui.widgets.transcript_view import TranscriptView

    home, _ = hostile_home(tmp_path)
    app = app_for(tmp_path / "h.sqlite", home)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_loaded(pilot)
        screen = app.screen
        assert isinstance(screen, IssuesScreen)
        await pilot.press("down")  # the user's choice: every issue of all origins, each with its breakdown
        select = screen.query_one("#filter-origin")
        select.value = "all"  # type: ignore[attr-defined]
        await settle(pilot)
        texts = [frame(app, "issues")]
        table = screen.query_one("#issues-table", DataTable)
        assert table.row_count >= 5
        seen_sessions: set[str] = set()
        for row in range(table.row_count):
            table.move_cursor(row=row)
            await pilot.pause()
            texts.append(frame(app, f"issues row {row}"))
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, IssueScreen)
            texts.append(frame(app, f"issue {row}"))
            issue = app.screen.issue
            assert issue is not None
            fresh = [n for n, e in enumerate(issue.evidence) if e.session_id not in seen_sessions]
            if fresh:  # each session's transcript, every record, every fold open
                sid = issue.evidence[fresh[0]].session_id
                seen_sessions.add(sid)
                app.screen.query_one("#issue-sessions", DataTable).move_cursor(row=fresh[0])
                await pilot.press("enter")
                await settle(pilot)
                assert isinstance(app.screen, TranscriptScreen)
                texts.append(frame(app, f"transcript {sid}"))
                view = app.screen.query_one(TranscriptView)
                await pilot.press("a")
                await pilot.pause()
                for i, b in enumerate(view.blocks):
                    view.cursor = i
                    if b.foldable and not b.expanded:
                        await pilot.press("enter")
                    await pilot.pause()
                    texts.append(frame(app, f"transcript {sid} block {i}"))
                await pilot.press("escape")
                await settle(pilot)
            await pilot.press("escape")
            await settle(pilot)
        assert len(seen_sessions) == 2
        app.push_screen(ClustersScreen())
        await settle(pilot)
        await pilot.press("a")  # offline embedder: no key in tests
        await settle(pilot, timeout=120)
        texts.append(frame(app, "clusters"))
        await pilot.press("escape")
        app.action_improvement()
        await settle(pilot)
        texts.append(frame(app, "improvement"))
        await pilot.press("escape")
        app.action_demo()
        await settle(pilot)
        assert isinstance(app.screen, DemoScreen)
        for stage in range(1, len(STAGES) + 1):
            await pilot.press(str(stage))
            await settle(pilot)
            texts.append(frame(app, f"demo stage {stage}"))
        joined = "\n".join(texts)
        for field in (
            "CWDX",
            "MODELX",
            "USERX",
            "CMDX",
            "TOOLX",
            "TOOLCMDX",
            "MCPSRVX",
            "ASSTX",
            "ERRX",
            "RTYPEX",
            "ETYPEX",
            "ABORTX",
            "DENYX",
            "PATCHX",
            "USER2X",
        ):
            assert field in joined, field


async def test_tui_filter_catches_text_no_screen_cleaned(tmp_path: Path) -> None:
    """The boundary is structural: a widget, a toast or the header given raw hostile text draws it clean and
    at the width it was measured with."""
    from textual.widgets import Static

    from ccl_tui.tui.widgets.safety import TerminalSafeFilter

    app = app_for(tmp_path / "empty.sqlite", tmp_path / "none")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_loaded(pilot)
        assert any(isinstance(f, TerminalSafeFilter) for f in app.get_line_filters())
        await app.screen.mount(Static(Text(f"STATICX{HOSTILE}|END"), id="raw"), before=0)
        await app.screen.mount(Static(f"PLAINX{HOSTILE}|END", markup=False), before=0)
        app.screen.sub_title = f"SUBX{HOSTILE}"
        app.notify(f"TOASTX{HOSTILE}", markup=False, timeout=30)
        await pilot.pause(0.3)
        text = frame(app, "raw widgets")
        for marker in ("STATICX", "PLAINX", "SUBX", "TOASTX"):
            assert marker in text, marker
        line = next(x for x in text.splitlines() if "STATICX" in x)
        assert cell_len(line) == SIZE[0]


# ---------------------------------------------------------------------------------------------- item 9
def test_reports_redact_the_commands_they_print(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """report/signals (JSON, Markdown, text) print signal details, signatures and evidence redacted; control
    characters are removed before the detector runs, so none can split a secret from it."""
    from ccl_tui.commands.report import shown

    token = "ghp_" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"
    split = token[:20] + "\x7f" + token[20:]  # DEL is not stripped at ingest
    assert token[4:20] not in shown(f"echo {split}") and "[REDACTED" in shown(f"echo {split}")
    home = tmp_path / "home"
    for i in range(2):
        r = Rollout(start=f"2026-10-0{i + 1}T09:00:00")
        r.user("push it")
        r.exec(f"git push https://{token}@github.com/acme/app.git", f"fatal: denied for {split}\n", 128)
        r.exec(f"curl -H 'Authorization: token {split}' https://api.github.com/x", "curl: (22) 401\n", 22)
        r.complete()
        r.user("no, that's wrong")
        r.write(home)
    db = str(tmp_path / "s.sqlite")
    run(capsys, "ingest", "--db", db, "--json", str(home))
    outs = {
        name: run(capsys, *argv, "--db", db)
        for name, argv in (
            ("report --json", ("report", "--origin", "all", "--json")),
            ("report --markdown", ("report", "--origin", "all", "--markdown")),
            ("report", ("report", "--origin", "all", "--explain", "10")),
            ("signals --json", ("signals", "--json")),
            ("signals", ("signals",)),
        )
    }
    assert "git push" in outs["signals --json"] and "[REDACTED" in outs["signals --json"]
    for name, out in outs.items():
        assert token not in out and token[4:20] not in out, name
