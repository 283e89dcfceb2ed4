"""The headless CLI: ingest, sessions, show (JSON shapes documented in the README)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ccl_tui.cli import main
from tests.builders import Rollout


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    for command in ("demo", "ingest", "sessions", "report", "signals", "show", "task", "tasks", "analyze", "clusters"):
        assert command in out


def test_bare_command_without_a_terminal_explains_itself(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys)  # pytest captures stdout: no TTY
    assert code == 2 and "needs an interactive terminal" in err


def test_ingest_sessions_show(tmp_path: Path, samples: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "c.sqlite")
    code, out, _ = run(capsys, "ingest", "--db", db, "--json", str(samples))
    assert code == 0
    summary = json.loads(out)
    assert summary["new"] == 3 and summary["events_added"] == 404 and summary["malformed"] == 0
    code, out, _ = run(capsys, "sessions", "--db", db, "--json")
    rows = json.loads(out)
    assert {r["id"][:8] for r in rows} == {"019e1625", "019c8bfe", "019c8a70"}
    assert set(rows[0]) >= {"id", "started_at", "repo", "cwd", "origin", "turns", "events", "git_commit"}
    code, out, _ = run(capsys, "show", "--db", db, "019e1625")
    assert code == 0 and "show tools" in out and "npm test" in out
    code, out, _ = run(capsys, "show", "--db", db, "019e1625", "--json")
    data = json.loads(out)
    assert data["session"]["id"].startswith("019e1625") and len(data["events"]) == 347
    code, _, err = run(capsys, "show", "--db", db, "nope")
    assert code == 2 and "No session matches" in err


def test_show_prints_untrusted_text_literally(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = Rollout()
    r.user("[bold red]x[/] and [link=file:///etc/passwd]click[/link]")
    r.exec("echo hi", "\x1b[31mred\x1b[0m \x1b]0;evil title\x07 [/]", 0)
    r.write(tmp_path)
    db = str(tmp_path / "c.sqlite")
    run(capsys, "ingest", "--db", db, "--json", str(tmp_path))
    code, out, _ = run(capsys, "show", "--db", db, r.id[:8])
    assert code == 0
    assert "[bold red]x[/] and [link=file:///etc/passwd]click[/link]" in out
    assert "\x1b" not in out, repr(out)
    assert "red  [/]" in out


def test_serve_builds_a_quoted_command(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("textual_serve", reason="the [serve] extra is not installed")
    import textual_serve.server

    seen: dict[str, object] = {}

    def fake_serve(self: textual_serve.server.Server) -> None:
        seen["command"], seen["host"], seen["port"] = self.command, self.host, self.port

    monkeypatch.setattr(textual_serve.server.Server, "serve", fake_serve)
    assert main(["serve", "--demo", "--port", "8123", "--db", "/tmp/a b.sqlite"]) == 0
    assert seen["host"] == "127.0.0.1" and seen["port"] == 8123
    assert str(seen["command"]).endswith("-m ccl_tui.cli --db '/tmp/a b.sqlite' demo")


def test_serve_forwards_sessions_to_the_demo_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("textual_serve", reason="the [serve] extra is not installed")
    import textual_serve.server

    seen: dict[str, object] = {}
    monkeypatch.setattr(textual_serve.server.Server, "serve", lambda self: seen.update(command=self.command))
    monkeypatch.chdir(tmp_path)
    assert main(["serve", "--demo", "--sessions", "my logs"]) == 0
    assert str(seen["command"]).endswith(f"-m ccl_tui.cli --sessions '{tmp_path / 'my logs'}' demo")
    assert main(["--sessions", "a", "serve"]) == 0  # the global option works for serve as well
    assert str(seen["command"]).endswith(f"-m ccl_tui.cli --sessions {tmp_path / 'a'}")


def test_the_served_app_runs_on_textual_serves_pipes(monkeypatch: pytest.MonkeyPatch) -> None:
    """textual-serve runs the app with its web driver over pipes: no terminal, and that is fine."""
    from ccl_tui.commands.tui import _require_tty

    monkeypatch.setattr("sys.stdin", io.StringIO())
    monkeypatch.delenv("TEXTUAL_DRIVER", raising=False)
    assert not _require_tty()
    monkeypatch.setenv("TEXTUAL_DRIVER", "textual.drivers.web_driver:WebDriver")
    assert _require_tty()


def test_demo_presents_on_ones_own_logs(tmp_path: Path) -> None:
    from ccl_tui.cli import build_parser
    from ccl_tui.tui.launch import choose_source

    for argv in (["demo", "--sessions", "x"], ["--sessions", "x", "demo"]):
        assert build_parser().parse_args(argv).sessions == ["x"]
    src = choose_source([str(tmp_path)], None, demo=True)
    assert src.paths == (tmp_path,) and not src.fresh_db and src.jobs == ()  # the user's data is never wiped
    bundled = choose_source(None, None, demo=True)
    assert bundled.paths != (tmp_path,) and bundled.fresh_db


def test_db_option_before_or_after_the_command() -> None:
    from ccl_tui.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["--db", "a.sqlite", "report"]).db == "a.sqlite"
    assert parser.parse_args(["report", "--db", "b.sqlite"]).db == "b.sqlite"
    assert parser.parse_args(["report"]).db is None
