"""What a newcomer and an audience notice first (issue 18): titles, counts that agree, keys that say what they
did, the Data stage naming its data, the Problem chart sorted by the one measure it draws."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccl_tui.issues.build import title_for
from ccl_tui.model.signals import SignalKind as S
from ccl_tui.pipeline import ranked_issues
from ccl_tui.text.cut import shorten
from ccl_tui.tui.screens.demo import DemoScreen
from ccl_tui.tui.screens.transcript import TranscriptScreen
from ccl_tui.tui.widgets.charts import BarChart
from ccl_tui.tui.widgets.transcript_view import TranscriptView
from tests.tui_support import DEMO, app_for, copy_db, screen_text, settle, wait_loaded

SIZE = (140, 42)


@pytest.fixture
def db(demo_db: Path, tmp_path: Path) -> Path:
    return copy_db(demo_db, tmp_path / "demo.sqlite")


# ----------------------------------------------------------------------------------------------- titles


@pytest.mark.parametrize(
    ("kind", "signature", "title"),
    [
        (S.COMMAND_FAILURE, "memory__add_observations | error", "memory__add_observations fails"),
        (S.COMMAND_FAILURE, "ps | permission denied", "ps fails: permission denied"),
        (S.COMMAND_FAILURE, "- | exit 2", "command fails: exit 2"),
        (S.COMMAND_FAILURE, "npm |", "npm fails"),
        (S.INTERRUPT, "- | during nl", "user interrupts the agent during `nl`"),
        (S.INTERRUPT, "- | while thinking", "user interrupts the agent while thinking"),
        (S.ERROR, "tool error | ", "tool error"),
        (S.ERROR, "tool error | mcp search", "tool error: mcp search"),
    ],
)
def test_titles_read_as_sentences(kind: str, signature: str, title: str) -> None:
    assert title_for(kind, signature) == title


def test_shorten_cuts_at_a_word_boundary() -> None:
    text = "pytest fails: AssertionError: expected unicode normalisation to keep the accent"
    cut = shorten(text, 40)
    assert len(cut) <= 40 and cut.endswith("…")
    assert cut == "pytest fails: AssertionError: expected…"  # not "…expected un"
    assert text.startswith(cut[:-1])
    assert shorten("short", 40) == "short"
    path = "/home/maya/src/billing-api/src/billing/services/tax_rates_for_every_region.py"
    assert len(shorten(path, 30)) == 30  # one long token is cut where it must
    assert shorten("abc", 1) == "…" and shorten("abc", 0) == ""


def test_task_text_lines_end_at_a_word_boundary() -> None:
    from ccl_tui.tasks.text import clean_line

    line = clean_line("pytest fails: AssertionError: expected unicode normalisation\nto keep the accent", 48)
    assert line == "pytest fails: AssertionError: expected unicode…"
    assert clean_line("token sk-proj-Xk9Qm2Lp7Rt4Vw8Zb3Nc6Hd1Jf5Gs0AeT7yU leaked", 30).startswith("token [REDACTED")


# ------------------------------------------------------------------------------------- clusters message


def test_clusters_footer_counts_only_clusters_with_several_issues(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.test_semantic_analyze import _ingested, _parser

    db = _ingested(tmp_path)
    p = _parser()
    args = p.parse_args(["analyze", "--db", db, "--json", "--embedder", "local"])
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["clusters"] > out["merged_clusters"] >= 1  # some singletons, so the two counts differ
    args = p.parse_args(["clusters", "--db", db, "--all"])
    assert args.func(args) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == f"{out['merged_clusters']} cluster(s) with more than one issue, {out['clusters']} in all"


# ------------------------------------------------------------------------------------------- transcript


async def _open_transcript(pilot, app, session_id: str, seq: int) -> TranscriptView:  # type: ignore[no-untyped-def]
    app.push_screen(TranscriptScreen(session_id, seq))
    await settle(pilot)
    return app.screen.query_one(TranscriptView)


async def test_header_and_footer_count_the_same_marked_events(db: Path) -> None:
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        issues = await ranked_issues(app.hub.store)
        ev = issues[0].evidence[0]
        view = await _open_transcript(pilot, app, ev.session_id, ev.seq)
        signals = await app.hub.signals(ev.session_id)
        marked = len({s.seq for s in signals})
        assert len(view.signal_blocks) == marked
        text = screen_text(app)
        assert f"{len(signals)} signal(s) on {marked} marked event(s)" in text
        n, total = view.signal_position()
        assert total == marked and f"marked event {n}/{marked}" in text


async def test_all_records_key_says_the_mode_changed(db: Path) -> None:
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        ev = (await ranked_issues(app.hub.store))[0].evidence[0]
        view = await _open_transcript(pilot, app, ev.session_id, ev.seq)
        await pilot.press("a")
        await settle(pilot)
        assert view.show_all
        assert any("every record" in str(n.message) for n in app._notifications)
        assert "ALL RECORDS" in screen_text(app)
        await pilot.press("a")
        await settle(pilot)
        assert not view.show_all and "ALL RECORDS" not in screen_text(app)
        assert any("records hidden" in str(n.message) for n in app._notifications)


async def test_t_on_a_delight_signal_writes_its_keep_green_task_and_says_so(db: Path) -> None:
    from ccl_tui.locations import tasks_dir

    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        store = app.hub.store
        issues = await ranked_issues(store)
        # a session with both friction and a delight signal (a check that went red -> green, or praise)
        target = None
        for issue in issues[:10]:
            for ev in issue.evidence:
                signals = await app.hub.signals(ev.session_id)
                delight = [s for s in signals if s.polarity == "delight" and s.kind != "unverifiable"]
                if delight and not any(s.polarity == "friction" and s.seq == delight[0].seq for s in signals):
                    target = (ev.session_id, delight[0])
                    break
            if target:
                break
        assert target is not None, "the demo corpus has sessions with delight signals"
        session_id, signal = target
        view = await _open_transcript(pilot, app, session_id, signal.seq)
        assert view.current_block is not None and view.current_block.event.seq == signal.seq
        await pilot.press("t")
        await settle(pilot)
        messages = [str(n.message) for n in app._notifications]
        assert any(m.startswith(f"Keep-green task for the {signal.kind} at event #{signal.seq}") for m in messages), (
            messages
        )
        written = sorted(tasks_dir().glob("*/task.toml"))
        assert len(written) == 1
        assert f"signal_seq = {signal.seq}" in written[0].read_text() or str(signal.seq) in written[0].read_text()


# ------------------------------------------------------------------------------------------------- demo


@pytest.mark.parametrize("generated", [True, False])
async def test_data_stage_names_its_data(db: Path, generated: bool) -> None:
    from ccl_tui.tui.app import make_app
    from ccl_tui.tui.hub import Source

    app = make_app(source=Source((DEMO,), db, generated=generated), demo=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        await pilot.press("3")
        await settle(pilot)
        text = screen_text(app)
        if generated:
            assert "generated sessions in Codex's real on-disk format" in text
            assert "real Codex rollouts" not in text
        else:
            assert "Data: your Codex sessions" in text


async def test_problem_chart_draws_one_measure_sorted(db: Path) -> None:
    app = app_for(db, demo=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        screen = app.screen
        assert isinstance(screen, DemoScreen)
        await settle(pilot)
        data = screen.query_one("#p-chart", BarChart).data
        issues = await ranked_issues(app.hub.store)
        values = [v for _, v in data]
        assert values == sorted(values, reverse=True) and len(values) == min(6, len(issues))
        for (label, value), issue in zip(data, issues, strict=False):
            assert label.endswith(f" · {issue.impact.sessions} sessions") and value == round(issue.impact.impact)


async def test_era_a_transcript_says_what_the_file_does_not_record(tmp_path: Path) -> None:
    """Era A files (2025, no envelope) name no model anywhere: the header says so instead of `model ?`, and the
    start comes from the file's header line."""
    import shutil

    fixture = Path(__file__).parent / "fixtures" / "codex_real" / "a_soichiro_shell_apply_patch_argv.jsonl"
    corpus = tmp_path / "codex"
    corpus.mkdir()
    shutil.copy(fixture, corpus / fixture.name)
    app = app_for(tmp_path / "a.sqlite", corpus)
    async with app.run_test(size=SIZE) as pilot:
        await wait_loaded(pilot)
        app.push_screen(TranscriptScreen("4d690cd0-d303-43b8-8083-566e84283ba1", 0))
        await settle(pilot)
        text = screen_text(app)
        assert "model not recorded" in text and "model ?" not in text
        assert "started 2025-08-25 21:26:54" in text
        assert "legacy file: no per-line times" in text
