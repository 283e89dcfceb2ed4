"""Every detector against the hand-labelled gold set in tests/gold (positives and near-miss negatives)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ccl_tui.config.settings import SignalThresholds
from ccl_tui.model.signals import DELIGHT_KINDS, FRICTION_KINDS, NOTE_KINDS
from ccl_tui.signals.gold import run_case, score

GOLD = Path(__file__).parent / "gold"
LABELS = json.loads((GOLD / "labels.json").read_text())


@pytest.mark.parametrize("name", sorted(LABELS))
def test_gold_case(name: str) -> None:
    label = LABELS[name]
    r = run_case(GOLD / "cases" / f"{name}.jsonl", label["focus"], label["expected"], SignalThresholds())
    assert r.found == r.expected


def test_every_detector_has_positives_and_negatives() -> None:
    for kind in (*FRICTION_KINDS, *DELIGHT_KINDS, *NOTE_KINDS):
        cases = [lab for lab in LABELS.values() if kind in lab["focus"]]
        positives = [c for c in cases if any(x["kind"] == kind for x in c["expected"])]
        negatives = [c for c in cases if not any(x["kind"] == kind for x in c["expected"])]
        assert positives, f"no positive gold case for {kind}"
        assert negatives, f"no near-miss negative gold case for {kind}"


def test_gold_scores_are_perfect() -> None:
    report = score(GOLD)
    for kind, s in report.by_kind.items():
        assert (s.precision, s.recall) == (1.0, 1.0), kind


def test_gold_files_match_their_generator(tmp_path: Path) -> None:
    """The committed case files are exactly what make_gold.py writes (labels and files stay in sync)."""
    before = {p.name: p.read_bytes() for p in (GOLD / "cases").glob("*.jsonl")}
    labels_before = (GOLD / "labels.json").read_bytes()
    subprocess.run([sys.executable, str(GOLD / "make_gold.py")], check=True, capture_output=True)
    after = {p.name: p.read_bytes() for p in (GOLD / "cases").glob("*.jsonl")}
    assert after == before
    assert (GOLD / "labels.json").read_bytes() == labels_before
