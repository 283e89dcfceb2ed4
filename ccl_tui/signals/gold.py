"""Scoring detectors against labelled gold sets (used by tests and bench/detectors.py).

Two sets, scored separately:

* **synthetic** (``tests/gold/labels.json``): small files in Codex's format written by ``make_gold.py``,
  each labelled with the exact ``(kind, line)`` signals it must give. They pin every rule, positives and
  near-miss negatives side by side, but they were written by the same hands as the detectors.
* **real** (``tests/gold/real/*.json``): files Codex itself wrote, from public repositories, each annotated
  by reading its raw lines: every tool call with its outcome as written, every typed prompt with what it
  says, and the other moments (compaction, aborts, truncation markers). ``expected_from_annotation`` turns
  such facts into the signals a correct detector must give, by fixed rules that never consult a detector.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccl_tui.config.settings import SignalThresholds
from ccl_tui.model.events import Event, row_to_event
from ccl_tui.model.signals import Signal
from ccl_tui.signals.detect import detect_session
from ccl_tui.sources.claude_code import EDIT_TOOLS
from ccl_tui.sources.parse import parse_file

#: Kinds the real annotations determine (delight is a whole-session judgment: checked by tests, not scored).
REAL_KINDS = (
    "command_failure",
    "timeout",
    "patch_failure",
    "denial",
    "approval_wait",
    "error",
    "interrupt",
    "user_pushback",
    "context_truncation",
    "expected_failure",
    "positive_feedback",
    "unverifiable",
)
#: The context_truncation signals an annotation speaks to (window-fill estimates are not annotated).
_SCORED_CONTEXT = ("context | compaction", "context | tool output truncated", "context | window exceeded")
_PUSHBACK = {"correction", "complaint", "pasted_error", "repeat", "praise_with_complaint"}
_FAILED = {"failed"}


@dataclass(slots=True)
class CaseResult:
    name: str
    focus: list[str]
    expected: AbstractSet[tuple[str, object]]  # (kind, line) in the synthetic set, (kind, key) in the real one
    found: AbstractSet[tuple[str, object]]


@dataclass
class KindScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    cases: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class GoldReport:
    cases: list[CaseResult] = field(default_factory=list)
    by_kind: dict[str, KindScore] = field(default_factory=lambda: defaultdict(KindScore))

    def add(self, r: CaseResult) -> None:
        self.cases.append(r)
        for kind in r.focus:
            ks = self.by_kind[kind]
            ks.cases += 1
            exp = {x for x in r.expected if x[0] == kind}
            got = {x for x in r.found if x[0] == kind}
            ks.tp += len(exp & got)
            ks.fp += len(got - exp)
            ks.fn += len(exp - got)


def detect_file(path: Path, th: SignalThresholds | None = None) -> tuple[list[Event], list[Signal]]:
    """Parse one rollout and detect its signals, as ingest + refresh would (no store involved)."""
    res = parse_file(str(path))
    events = [row_to_event(r) for r in res.rows]
    by_seq = {e.seq: e for e in events}
    for e in events:  # the store restores output text shared between records; do the same here
        ref = e.data.get("same_text_as")
        if ref is not None and not e.text and ref in by_seq:
            e.text = by_seq[ref].text
    sid = res.session.id if res.session else path.stem
    origin = res.session.origin if res.session else None
    return events, detect_session(sid, events, th or SignalThresholds(), origin)


def run_case(path: Path, focus: list[str], expected: list[dict], th: SignalThresholds) -> CaseResult:
    events, signals = detect_file(path, th)
    by_seq = {e.seq: e for e in events}
    found = {(s.kind, by_seq[s.seq].line) for s in signals if s.kind in focus}
    return CaseResult(path.stem, focus, {(x["kind"], x["line"]) for x in expected}, found)


def score(gold_dir: Path, th: SignalThresholds | None = None) -> GoldReport:
    """The synthetic set: labels.json + cases/*.jsonl."""
    th = th or SignalThresholds()
    labels = json.loads((gold_dir / "labels.json").read_text(encoding="utf-8"))
    report = GoldReport()
    for name, label in sorted(labels.items()):
        report.add(run_case(gold_dir / "cases" / f"{name}.jsonl", label["focus"], label["expected"], th))
    return report


# ---------------------------------------------------------------------------------------------- real set
@dataclass(frozen=True, slots=True)
class Expected:
    """One signal a real file must give: matched by call id, else by the line of its primary evidence."""

    kind: str
    key: str  # "call:<id>" | "line:<n>" | "session"
    lines: tuple[int, ...] = ()
    why: str = ""


def expected_from_annotation(a: dict[str, Any], th: SignalThresholds | None = None) -> list[Expected]:
    """The signals a correct detector must give for an annotated real file (fixed rules over the facts)."""
    th = th or SignalThresholds()
    out: list[Expected] = []
    prompts = sorted(a.get("prompts", []), key=lambda p: min(p["lines"]))
    events = a.get("events", [])
    aborted_lines = sorted(e["line"] for e in events if str(e["what"]).startswith("turn_aborted"))
    for c in a.get("calls", []):
        key = f"call:{c['call_id']}"
        lines = (c["call_line"], *c.get("result_lines", []))
        outcome = c.get("outcome")
        tool = str(c.get("tool") or "")
        mcp = "__" in tool
        if tool == "write_stdin" and "write_stdin failed" not in str(c.get("how", "")):
            continue  # a poll reports the exit of the exec call it polls: that call carries the outcome
        if outcome == "rejected":
            out.append(Expected("denial", key, lines, c.get("how", "")))
        elif outcome == "timeout":
            out.append(Expected("timeout", key, lines, c.get("how", "")))
        elif outcome in _FAILED and c.get("expected_failure"):
            out.append(Expected("expected_failure", key, lines, c.get("how", "")))
        elif outcome in _FAILED and c.get("edit"):
            out.append(Expected("patch_failure", key, lines, c.get("how", "")))
        elif outcome in _FAILED and mcp:
            out.append(Expected("error", key, lines, c.get("how", "")))
        elif outcome in _FAILED and not c.get("probe"):
            out.append(Expected("command_failure", key, lines, c.get("how", "")))
        elif outcome in ("no_output", "aborted"):
            nxt = next((min(p["lines"]) for p in prompts if min(p["lines"]) > c["call_line"]), None)
            stopped = any(c["call_line"] < x < (nxt or 10**9) for x in aborted_lines)
            if nxt is not None and not stopped:
                out.append(Expected("interrupt", key, lines, "no result, the user's next prompt followed"))
        waited = c.get("waited_s")
        if isinstance(waited, int | float) and waited >= th.approval_wait_min_s:
            out.append(Expected("approval_wait", key, lines, f"waited {waited:.0f}s"))
    for p in prompts:
        if p.get("turn", 1) <= 1:
            continue
        cat = p.get("category")
        if cat in _PUSHBACK and p.get("objected_to"):  # friction with the agent needs agent work to object to
            out.append(Expected("user_pushback", f"line:{max(p['lines'])}", tuple(p["lines"]), cat))
        elif cat == "praise":
            out.append(Expected("positive_feedback", f"line:{max(p['lines'])}", tuple(p["lines"]), cat))
    for e in events:
        what = str(e["what"])
        if what in ("turn_aborted:interrupted", "turn_aborted:replaced"):
            out.append(Expected("interrupt", f"line:{e['line']}", (e["line"],), what))
        elif what in ("compaction", "context_window_exceeded"):
            out.append(Expected("context_truncation", f"line:{e['line']}", (e["line"],), what))
        elif what == "error":
            out.append(Expected("error", f"line:{e['line']}", (e["line"],), what))
    stream = [e["line"] for e in events if e["what"] == "stream_error"]
    if stream:
        out.append(Expected("error", "session:stream", tuple(stream), "stream errors"))
    marked = [e["line"] for e in events if e["what"] == "truncation_marker"]
    if len(marked) >= th.long_output_marker_min:
        out.append(Expected("context_truncation", "session:truncation", tuple(marked), "truncation markers"))
    if a.get("redacted") in ("partial", "full"):
        out.append(Expected("unverifiable", "session:redacted", (), "redacted"))
    return _merge_compaction_pairs(out)


def _merge_compaction_pairs(out: list[Expected]) -> list[Expected]:
    """A ``compacted`` line and its ``context_compacted`` event (a few lines apart) are one compaction."""
    kept: list[Expected] = []
    last = -100
    for x in sorted(out, key=lambda x: (x.kind != "context_truncation" or x.why != "compaction", x.lines)):
        if x.kind == "context_truncation" and x.why == "compaction":
            if x.lines[0] - last <= 4:
                last = x.lines[0]
                continue
            last = x.lines[0]
        kept.append(x)
    return kept


def _signal_key(s: Signal, line_of: dict[int, int]) -> str:
    sig = s.signature
    if s.kind == "context_truncation" and sig == "context | tool output truncated":
        return "session:truncation"
    if s.kind == "error" and sig == "stream error | reconnecting":
        return "session:stream"
    if s.kind == "unverifiable":
        return "session:redacted"
    if s.call_id and s.kind not in ("user_pushback", "positive_feedback", "context_truncation"):
        return f"call:{s.call_id}"
    return f"line:{line_of.get(s.seq, -1)}"


def _scored(s: Signal) -> bool:
    if s.kind not in REAL_KINDS:
        return False
    return s.kind != "context_truncation" or s.signature in _SCORED_CONTEXT


def _load(annotation: Path) -> tuple[dict[str, Any], Path]:
    a = json.loads(annotation.read_text(encoding="utf-8"))
    file = str(a["file"])
    path = annotation.parent / file if file.startswith("..") else fixture_path(annotation, file)
    return a, path


def run_real_case(annotation: Path, th: SignalThresholds | None = None) -> CaseResult:
    """Expected and found signals of one annotated real file, as (kind, key) pairs; a found signal takes the
    key of the expected one it matches (a prompt on either of its two lines, a call on any of its records)."""
    a, path = _load(annotation)
    events, signals = detect_file(path, th)
    line_of = {e.seq: e.line for e in events}
    expected = {(x.kind, x.key) for x in expected_from_annotation(a, th)}
    found = set()
    for s in signals:
        if not _scored(s):
            continue
        key = _signal_key(s, line_of)
        match = next((e for e in expected if e[0] == s.kind and _same(e[1], key, a)), None)
        found.add(match or (s.kind, key))
    return CaseResult(annotation.stem, list(REAL_KINDS), expected, found)


def _same(expected_key: str, found_key: str, a: dict[str, Any]) -> bool:
    if expected_key == found_key:
        return True
    if expected_key.startswith("line:") and found_key.startswith("line:"):
        line = int(found_key[5:])
        return any(int(expected_key[5:]) in p["lines"] and line in p["lines"] for p in a.get("prompts", []))
    if expected_key.startswith("call:") and found_key.startswith("line:"):
        cid, line = expected_key[5:], int(found_key[5:])
        return any(
            c["call_id"] == cid and line in (c["call_line"], *c.get("result_lines", [])) for c in a.get("calls", [])
        )
    return False


def fixture_path(annotation: Path, file: str) -> Path:
    return annotation.parent.parent.parent / "fixtures" / "codex_real" / file


def real_mismatches(annotation: Path, th: SignalThresholds | None = None) -> dict[str, list[str]]:
    """Readable differences between what an annotated file must give and what the detectors found."""
    a, path = _load(annotation)
    events, signals = detect_file(path, th)
    line_of = {e.seq: e.line for e in events}
    expected = expected_from_annotation(a, th)
    found = [(s.kind, _signal_key(s, line_of), s.detail) for s in signals if _scored(s)]
    missing = [
        f"{x.kind} {x.key} ({x.why})"
        for x in expected
        if not any(k == x.kind and _same(x.key, key, a) for k, key, _ in found)
    ]
    extra = [
        f"{k} {key}: {detail}"
        for k, key, detail in found
        if not any(x.kind == k and _same(x.key, key, a) for x in expected)
    ]
    return {"missing": missing, "extra": extra}


def score_real(real_dir: Path, th: SignalThresholds | None = None) -> GoldReport:
    """The real set: tests/gold/real/*.json annotations of files Codex wrote."""
    report = GoldReport()
    for annotation in sorted(real_dir.glob("*.json")):
        report.add(run_real_case(annotation, th))
    return report


# ---------------------------------------------------------------------------------------------- Claude Code
#: Kinds the Claude Code annotations (tests/gold/claude) determine.
CLAUDE_KINDS = (
    "command_failure",
    "patch_failure",
    "denial",
    "interrupt",
    "error",
    "context_truncation",
    "user_pushback",
)


def claude_file(annotation: Path) -> Path:
    a = json.loads(annotation.read_text(encoding="utf-8"))
    return annotation.parent.parent.parent / "fixtures" / "claude_real" / a["file"]


def expected_from_claude(a: dict[str, Any], path: Path) -> set[tuple[str, int]]:
    """(kind, line of the evidence record) each fact of a Claude Code annotation must raise: a failed call (a
    patch failure for the edit tools), a refused one, an interrupt, an API error, the first record of a
    compaction and of a burst of API retries (``system`` records of subtype ``api_error``, read from the
    file), and a correction typed by the user."""
    exp: set[tuple[str, int]] = set()
    for c in a["calls"]:
        if c["outcome"] == "error":
            exp.add(("patch_failure" if c["tool"] in EDIT_TOOLS else "command_failure", c["result_line"]))
        elif c["outcome"] == "rejected":
            exp.add(("denial", c["result_line"]))
    exp.update(("interrupt", n) for n in a["interrupts"])
    exp.update(("error", n) for n in a["api_errors"])
    if a["compactions"]:
        exp.add(("context_truncation", min(a["compactions"])))
    exp.update(("user_pushback", p["line"]) for p in a["prompts"] if p["kind"] == "correction")
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    retries = [n for n, r in enumerate(records, 1) if r.get("type") == "system" and r.get("subtype") == "api_error"]
    if retries:
        exp.add(("error", retries[0]))
    return exp


def claude_found(signals: list[Signal], events: list[Event]) -> set[tuple[str, int]]:
    """(kind, line of the evidence record) of the signals the Claude Code annotations score."""
    line_of = {e.seq: e.line for e in events}
    return {(s.kind, line_of[s.seq]) for s in signals if s.kind in CLAUDE_KINDS}


def run_claude_case(annotation: Path, th: SignalThresholds | None = None) -> CaseResult:
    path = claude_file(annotation)
    a = json.loads(annotation.read_text(encoding="utf-8"))
    events, signals = detect_file(path, th)
    return CaseResult(annotation.stem, list(CLAUDE_KINDS), expected_from_claude(a, path), claude_found(signals, events))


def score_claude(claude_dir: Path, th: SignalThresholds | None = None) -> GoldReport:
    """The Claude Code set: tests/gold/claude/*.json annotations of files Claude Code wrote."""
    report = GoldReport()
    for annotation in sorted(claude_dir.glob("*.json")):
        report.add(run_claude_case(annotation, th))
    return report
