"""Claude Code files Claude Code itself wrote, against annotations written from their raw lines.

tests/fixtures/claude_real holds the files (origins in ORIGINS.md); tests/gold/claude one annotation per file:
every tool call with the line of its result and what the result says, every prompt a person typed (and
whether it corrects the agent), interrupts, compactions and API errors. The expected signals follow from
those facts here; nothing consults a detector to decide what is right.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ccl_tui.model.events import Event, EventKind
from ccl_tui.signals.gold import claude_found, detect_file, expected_from_claude
from ccl_tui.sources.claude_code import EDIT_TOOLS, subagent_id
from ccl_tui.sources.parse import parse_file
from ccl_tui.transcript import transcript_lines

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "tests" / "gold" / "claude"
FILES = ROOT / "tests" / "fixtures" / "claude_real"
ANNOTATIONS = sorted(GOLD.glob("*.json"))
K = EventKind

#: Known misses of the rules, each a limit of word lists, not of reading the format: corrections with no
#: correcting words (a suggestion put as a question, a redirect that states what is right).
KNOWN_MISSES: dict[tuple[str, str], str] = {
    ("entire_2_0_76_compaction", "user_pushback line:8"): "'... we should bail out and return an error, or?'",
    ("entire_2_1_29_exit1_reject_interrupt", "user_pushback line:32"): "'fix the test, the code is right'",
}


def _load(annotation: Path) -> tuple[dict[str, Any], Path]:
    a = json.loads(annotation.read_text(encoding="utf-8"))
    return a, FILES / a["file"]


def _lines(events: list[Event], *kinds: str) -> list[int]:
    return sorted({e.line for e in events if e.kind in kinds})


def test_the_set_covers_the_shapes_claude_code_writes() -> None:
    versions = set()
    seen: set[str] = set()
    for annotation in ANNOTATIONS:
        a, path = _load(annotation)
        assert path.is_file() and not a["synthetic"], path
        versions.update(v.split(".")[0] + "." + v.split(".")[1] for v in a["versions"])
        seen.update(c["outcome"] for c in a["calls"])
        seen.update(k for k in ("interrupts", "compactions", "api_errors") if a[k])
        seen.update("sidechain" for _ in [1] if a["sidechain"])
        seen.update(p["kind"] for p in a["prompts"])
    assert len(ANNOTATIONS) >= 12 and {"1.0", "2.0", "2.1"} <= versions, versions
    assert {"ok", "error", "rejected", "interrupts", "compactions", "api_errors", "sidechain", "correction"} <= seen


@pytest.mark.parametrize("annotation", ANNOTATIONS, ids=[a.stem for a in ANNOTATIONS])
def test_annotation_points_at_real_records(annotation: Path) -> None:
    a, path = _load(annotation)
    lines = path.read_text(encoding="utf-8").splitlines()
    for c in a["calls"]:
        assert c["tool_use_id"] in lines[c["line"] - 1]
        if c["result_line"] is not None:
            assert c["tool_use_id"] in lines[c["result_line"] - 1]
    for p in a["prompts"]:
        assert json.loads(lines[p["line"] - 1])["type"] == "user"


@pytest.mark.parametrize("annotation", ANNOTATIONS, ids=[a.stem for a in ANNOTATIONS])
def test_the_session_is_read_as_annotated(annotation: Path) -> None:
    a, path = _load(annotation)
    r = parse_file(str(path))
    s = r.session
    assert s is not None and r.bad == [] and r.error is None
    if a["sidechain"] and path.name.startswith(("agent-", "codemie_2_0_64", "codemie_2_1_7_subagent")):
        agent = json.loads(path.read_text().splitlines()[0]).get("agentId")
        assert s.id == subagent_id(a["session_id"], agent) and s.parent_id == a["session_id"]
        assert s.origin == "subagent"
    else:
        assert s.id == a["session_id"] and s.origin != "subagent"
    assert s.cli_version in a["versions"]
    assert s.cwd == a["cwd"] and s.git_branch == a["git_branch"]
    if a["model"] != "<synthetic>":  # a placeholder Claude Code writes for its own messages, not a model
        assert s.model == a["model"]


@pytest.mark.parametrize("annotation", ANNOTATIONS, ids=[a.stem for a in ANNOTATIONS])
def test_prompts_interrupts_compactions_and_api_errors_are_where_annotated(annotation: Path) -> None:
    a, path = _load(annotation)
    events, _ = detect_file(path)
    assert _lines(events, K.USER_MESSAGE) == sorted(p["line"] for p in a["prompts"])
    assert _lines(events, K.TURN_ABORTED) == sorted(a["interrupts"])
    assert _lines(events, K.ERROR) == sorted(a["api_errors"])
    compactions = _lines(events, K.COMPACTION)
    assert set(compactions) <= set(a["compactions"]) and bool(compactions) == bool(a["compactions"])


@pytest.mark.parametrize("annotation", ANNOTATIONS, ids=[a.stem for a in ANNOTATIONS])
def test_every_call_has_the_annotated_outcome(annotation: Path) -> None:
    a, path = _load(annotation)
    events, _ = detect_file(path)
    calls = {e.call_id: e for e in events if e.kind == K.TOOL_CALL}
    results: dict[str, list[Event]] = {}
    for e in events:
        if e.kind in (K.TOOL_OUTPUT, K.PATCH_APPLY, K.DENIAL) and e.call_id:
            results.setdefault(e.call_id, []).append(e)
    for c in a["calls"]:
        cid = c["tool_use_id"]
        assert calls[cid].line == c["line"] and calls[cid].tool == c["tool"], cid
        if c["tool"] == "Bash":
            assert calls[cid].command == c["command"], cid
        got = results.get(cid, [])
        if c["outcome"] == "no_result":
            assert got == [], cid
            continue
        assert len(got) == 1 and got[0].line == c["result_line"], (cid, [(e.kind, e.line) for e in got])
        e = got[0]
        if c["outcome"] == "ok":
            assert e.success is True and e.kind != K.DENIAL, (cid, e.kind, e.status)
        elif c["outcome"] == "error":
            assert e.success is False and e.kind in (K.TOOL_OUTPUT, K.PATCH_APPLY), (cid, e.kind, e.status)
            assert e.exit_code == c["exit_code"], cid
            assert (e.kind == K.PATCH_APPLY) == (c["tool"] in EDIT_TOOLS), cid
        elif c["outcome"] == "rejected":
            assert e.kind == K.DENIAL, (cid, e.kind)
        elif c["outcome"] == "interrupted":
            assert e.status == "aborted", (cid, e.status)


@pytest.mark.parametrize("annotation", ANNOTATIONS, ids=[a.stem for a in ANNOTATIONS])
def test_detection_matches_the_annotation(annotation: Path) -> None:
    a, path = _load(annotation)
    events, signals = detect_file(path)
    expected = expected_from_claude(a, path)
    found = claude_found(signals, events)
    missing = {x for x in expected - found if (annotation.stem, f"{x[0]} line:{x[1]}") not in KNOWN_MISSES}
    assert missing == set() and found - expected == set(), {"missing": missing, "extra": found - expected}


@pytest.mark.parametrize("annotation", ANNOTATIONS, ids=[a.stem for a in ANNOTATIONS])
def test_failed_and_refused_calls_are_marked_in_the_transcript(annotation: Path) -> None:
    a, path = _load(annotation)
    events, _ = detect_file(path)
    text = transcript_lines(events)
    by_call = {e.call_id: e for e in events if e.kind in (K.TOOL_OUTPUT, K.PATCH_APPLY, K.DENIAL)}
    for c in a["calls"]:
        if c["outcome"] not in ("error", "rejected"):
            continue
        e = by_call[c["tool_use_id"]]
        line = next(ln for ln in text if ln.startswith(f"#{e.seq:<5}"))
        assert any(mark in line for mark in ("exit ", "failed", "FAILED", "denied", "refused", "blocked")), line


def test_known_misses_are_still_misses() -> None:
    """A known miss that starts passing must leave the list (it would hide a regression otherwise)."""
    for stem, what in KNOWN_MISSES:
        _a, path = _load(GOLD / f"{stem}.json")
        events, signals = detect_file(path)
        kind, line = what.split(" line:")
        assert (kind, int(line)) not in claude_found(signals, events), (stem, what)
