"""Scoring detectors against a labelled gold set (used by tests and bench/detectors.py)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ccl_tui.config.settings import SignalThresholds
from ccl_tui.signals.detect import detect_session
from ccl_tui.sources.model import row_to_event
from ccl_tui.sources.parse import parse_file


@dataclass(slots=True)
class CaseResult:
    name: str
    focus: list[str]
    expected: set[tuple[str, int]]
    found: set[tuple[str, int]]


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


def run_case(path: Path, focus: list[str], expected: list[dict], th: SignalThresholds) -> CaseResult:
    res = parse_file(str(path))
    events = [row_to_event(r) for r in res.rows]
    by_seq = {e.seq: e for e in events}
    for e in events:  # the store restores output text shared between records; do the same here
        ref = e.data.get("same_text_as")
        if ref is not None and not e.text and ref in by_seq:
            e.text = by_seq[ref].text
    sid = res.session.id if res.session else path.stem
    found = {(s.kind, by_seq[s.seq].line) for s in detect_session(sid, events, th) if s.kind in focus}
    return CaseResult(path.stem, focus, {(x["kind"], x["line"]) for x in expected}, found)


def score(gold_dir: Path, th: SignalThresholds | None = None) -> GoldReport:
    th = th or SignalThresholds()
    labels = json.loads((gold_dir / "labels.json").read_text(encoding="utf-8"))
    report = GoldReport()
    for name, label in sorted(labels.items()):
        r = run_case(gold_dir / "cases" / f"{name}.jsonl", label["focus"], label["expected"], th)
        report.cases.append(r)
        for kind in r.focus:
            ks = report.by_kind[kind]
            ks.cases += 1
            exp = {x for x in r.expected if x[0] == kind}
            got = {x for x in r.found if x[0] == kind}
            ks.tp += len(exp & got)
            ks.fp += len(got - exp)
            ks.fn += len(exp - got)
    return report
