"""Detection, ranking and transcripts on rollouts Codex itself wrote (the real gold set).

Each file in tests/fixtures/codex_real (and the three team samples) has an annotation in tests/gold/real,
written by reading its raw lines: every call with its outcome, every typed prompt with what it says, and the
moments in between. ``expected_from_annotation`` turns those facts into the signals a correct detector must
give; nothing here consults a detector to decide what is right.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from ccl_tui.config.settings import SignalThresholds
from ccl_tui.model.events import EventKind
from ccl_tui.model.signals import DELIGHT_KINDS
from ccl_tui.pipeline import ranked_issues, refresh
from ccl_tui.signals.gold import detect_file, fixture_path, real_mismatches
from ccl_tui.store.db import Store
from ccl_tui.store.ingest import ingest
from ccl_tui.transcript import duplicate_seqs, transcript_lines

GOLD = Path(__file__).parent / "gold" / "real"
ANNOTATIONS = sorted(GOLD.glob("*.json"))
K = EventKind

#: Known misses of the rules, each a limit of word lists (other languages, corrections without correcting
#: words), not of reading the format. The model layer (`ccl-tui analyze --llm`) classifies these prompts.
KNOWN_MISSES = {
    ("b_mcpomat_rg_probe_correction", "user_pushback line:34"): "German correction 'specify heisst es ja'",
    ("c_xuwentao_tui_ghostty_font", "user_pushback line:38"): "Chinese correction '我现在用的是ghostty'",
    # Corrections with no correcting words: the user states the fact the agent got wrong.
    ("b_aitradingbot_sandbox_signal_py311_redirect", "user_pushback line:174"): "'python3 should point to python 3.11'",
    ("b_knearme_080_answer_correction_paste", "user_pushback line:59"): "'they share the same backedn'",
}


def _load(annotation: Path) -> tuple[dict, Path]:
    a = json.loads(annotation.read_text(encoding="utf-8"))
    file = a["file"]
    return a, (annotation.parent / file if file.startswith("..") else fixture_path(annotation, file))


def test_the_real_set_covers_every_era_and_enough_files() -> None:
    eras = defaultdict(int)
    for annotation in ANNOTATIONS:
        a, path = _load(annotation)
        assert path.is_file(), path
        eras[a["era"]] += 1
    assert len(ANNOTATIONS) >= 12 and {"A", "B", "C"} <= set(eras), dict(eras)


@pytest.mark.parametrize("annotation", ANNOTATIONS, ids=[a.stem for a in ANNOTATIONS])
def test_annotation_points_at_real_records(annotation: Path) -> None:
    """The annotation's call ids and line numbers are those of the raw file."""
    a, path = _load(annotation)
    lines = path.read_text(encoding="utf-8").splitlines()
    for c in a["calls"]:
        records = [lines[n - 1] for n in (c["call_line"], *c.get("result_lines", [])) if 1 <= n <= len(lines)]
        assert len(records) == 1 + len(c.get("result_lines", [])), c["call_id"]
        # a web search call carries its id only on its web_search_end record
        assert any(c["call_id"] in r for r in records), (c["call_id"], c["call_line"])
    for p in a["prompts"]:
        assert all(1 <= n <= len(lines) for n in p["lines"])


@pytest.mark.parametrize("annotation", ANNOTATIONS, ids=[a.stem for a in ANNOTATIONS])
def test_detection_matches_the_annotation(annotation: Path) -> None:
    m = real_mismatches(annotation)
    missing = [x for x in m["missing"] if (annotation.stem, x.split(" (")[0]) not in KNOWN_MISSES]
    assert missing == [] and m["extra"] == [], m


def test_known_misses_are_still_misses() -> None:
    """A known miss that starts passing must leave the list (it would hide a regression otherwise)."""
    for stem, what in KNOWN_MISSES:
        m = real_mismatches(GOLD / f"{stem}.json")
        assert any(x.startswith(what) for x in m["missing"]), (stem, what)


@pytest.mark.parametrize("annotation", ANNOTATIONS, ids=[a.stem for a in ANNOTATIONS])
def test_no_delight_or_sentiment_is_claimed_on_redacted_text(annotation: Path) -> None:
    a, path = _load(annotation)
    _events, signals = detect_file(path)
    kinds = {s.kind for s in signals}
    if a["redacted"] in ("partial", "full"):
        assert "unverifiable" in kinds
        assert not kinds & set(DELIGHT_KINDS), kinds
    else:
        assert "unverifiable" not in kinds


@pytest.mark.parametrize("annotation", ANNOTATIONS, ids=[a.stem for a in ANNOTATIONS])
def test_every_edit_is_recognised_however_it_was_invoked(annotation: Path) -> None:
    """apply_patch as a tool, a custom tool, through the shell (argv or heredoc): an edit that applied or not."""
    a, path = _load(annotation)
    events, _ = detect_file(path)
    patches = {e.call_id: e for e in events if e.kind == K.PATCH_APPLY and e.call_id}
    calls = {e.call_id: e for e in events if e.kind == K.TOOL_CALL and e.call_id}
    for c in a["calls"]:
        if not c.get("edit"):
            continue
        assert calls[c["call_id"]].tool == "apply_patch", c["call_id"]
        if c["outcome"] in ("ok", "failed"):
            assert c["call_id"] in patches, c["call_id"]
            assert patches[c["call_id"]].success is (c["outcome"] == "ok"), c["call_id"]


@pytest.mark.parametrize("annotation", ANNOTATIONS, ids=[a.stem for a in ANNOTATIONS])
def test_every_failed_call_is_marked_failed_in_the_transcript(annotation: Path) -> None:
    a, path = _load(annotation)
    events, _ = detect_file(path)
    text = "\n".join(transcript_lines(events))
    hidden = duplicate_seqs(events)
    results = defaultdict(list)
    for e in events:
        if e.kind in (K.TOOL_OUTPUT, K.PATCH_APPLY, K.DENIAL) and e.call_id:
            results[e.call_id].append(e)
    for c in a["calls"]:
        if c["outcome"] not in ("failed", "rejected", "timeout") or c.get("tool") == "write_stdin":
            continue
        shown = [e for e in results[c["call_id"]] if e.seq not in hidden]
        assert len(shown) == 1, (c["call_id"], [e.raw_type for e in shown])  # one line per real result
        e = shown[0]
        assert e.success is False or e.kind == K.DENIAL, (c["call_id"], e.raw_type, e.status)
        line = next(ln for ln in text.splitlines() if ln.startswith(f"#{e.seq:<5}"))
        assert any(mark in line for mark in ("exit ", "failed", "FAILED", "denied", "refused", "blocked")), line


async def test_report_on_the_real_corpus_ranks_by_recency_and_dates_every_issue(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "real.sqlite")
    try:
        roots = [GOLD.parent.parent / "fixtures" / "codex_real", GOLD.parent.parent / "fixtures" / "codex_samples"]
        await ingest(store, roots)
        await refresh(store)
        from ccl_tui.scope import scope_from

        issues = await ranked_issues(store, scope_from("all"))
        infos = await store.session_infos()
    finally:
        await store.close()
    assert issues
    newest = max(i.started_at for i in infos.values() if i.started_at)
    half_life = 14.0
    for issue in issues:
        assert issue.first_seen and issue.last_seen, issue.title
        assert issue.impact.days_since_last is not None
    # no issue whose sessions are all older than the newest session by more than four half-lives outranks one
    # seen within a half-life, unless it hit more sessions
    from ccl_tui.model.events import ts_epoch

    def age(i) -> float:  # type: ignore[no-untyped-def]
        return (ts_epoch(newest) - ts_epoch(i.last_seen)) / 86400  # type: ignore[operator]

    for hi, issue in enumerate(issues):
        if age(issue) > 4 * half_life:
            for fresh in issues[hi + 1 :]:
                assert not (age(fresh) <= half_life and fresh.impact.sessions >= issue.impact.sessions), (
                    issue.title,
                    issue.last_seen,
                    fresh.title,
                    fresh.last_seen,
                )


def test_legacy_files_get_their_header_time_not_now() -> None:
    for annotation in ANNOTATIONS:
        a, path = _load(annotation)
        if a["era"] != "A":
            continue
        events, signals = detect_file(path)
        assert all(e.timestamp for e in events), path.name
        assert all(e.data.get("ts_from") for e in events), path.name
        assert all(s.timestamp and s.timestamp < "2026" for s in signals), path.name


def test_thresholds_are_the_defaults() -> None:
    # the annotations' approval waits are judged against the default threshold
    assert SignalThresholds().approval_wait_min_s == 120.0


@pytest.mark.parametrize("annotation", ANNOTATIONS, ids=[a.stem for a in ANNOTATIONS])
def test_one_transcript_line_per_real_event(annotation: Path) -> None:
    """2026 builds write a call's result twice (the output item and the *_end event) and a web search as its
    call and its end event; polls of a running command are not events of their own. Each shows once."""
    _a, path = _load(annotation)
    events, _ = detect_file(path)
    hidden = duplicate_seqs(events)
    shown_results: dict[str, int] = defaultdict(int)
    searches: dict[tuple[int, str], int] = defaultdict(int)
    for e in events:
        if e.seq in hidden:
            continue
        if e.kind in (K.TOOL_OUTPUT, K.PATCH_APPLY, K.DENIAL) and e.call_id:
            shown_results[e.call_id] += 1
        elif e.kind == K.WEB_SEARCH:
            searches[(e.turn, e.text)] += 1
        elif e.kind == K.TOOL_CALL and e.tool == "write_stdin":
            assert e.data.get("chars"), "an empty poll is shown"
    assert all(n == 1 for n in shown_results.values()), {k: n for k, n in shown_results.items() if n > 1}
    assert all(n == 1 for n in searches.values())


def test_mcp_results_show_as_their_text() -> None:
    path = fixture_path(GOLD / "x.json", "a_ocodex_mcp_shell.jsonl")
    events, _ = detect_file(path)
    outputs = [e for e in events if e.kind == K.TOOL_OUTPUT and e.tool and "__" in e.tool]
    assert outputs and all(not e.text.lstrip().startswith(("[{", '{"content"')) for e in outputs)
    assert all(e.success is True for e in outputs)
