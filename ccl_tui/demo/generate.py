"""Generate the demo corpus: ``python -m ccl_tui.demo.generate --out demo_sessions --sessions 500 --seed 2026``.

Writes ``--sessions`` planned sessions plus the runnable episode's sessions (episode.py: their failing check is
real and runs with the standard library), the git bundles of the corpus's repositories (``repos/``, gitrepos.py:
every session records a real commit of them), the simulated Harbor job folders (``harbor-jobs/*__simulated``)
and ``CORPUS.md``.

Deterministic: every random choice comes from ``random.Random`` seeded with ``--seed`` (per session with
``"<seed>:<index>"``, the episode with ``"<seed>:episode"``), timestamps are computed, never read from the clock,
and records are written with a stable key order. Same arguments, same bytes (``.jsonl.zst`` files: same
decompressed bytes for a given zstd version; bundles: the same commits, whose hashes do not depend on the git
version). The episode's check outputs come from running it with this interpreter, normalised (the temporary
checkout's path, the run time); Python 3.11 to 3.13 print the same text.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from pathlib import Path

from ccl_tui.demo import episode, gitrepos
from ccl_tui.demo.corpus import SessionResult, render_corpus_md
from ccl_tui.demo.gitrepos import write_bundles
from ccl_tui.demo.harbor_runs import write_runs
from ccl_tui.demo.ids import Ids
from ccl_tui.demo.legacy import render_legacy
from ccl_tui.demo.plan import FIX_DATE, SessionPlan, build_plan
from ccl_tui.demo.rebase import rebase_story
from ccl_tui.demo.render import Record, render_enveloped, render_fork
from ccl_tui.demo.steps import Story
from ccl_tui.demo.story import build_story
from ccl_tui.demo.writer import encode, prepare, relative_path, write_session

__all__ = ["FIX_DATE", "generate", "main"]

DEFAULT_OUT = "demo_sessions"
DEFAULT_SESSIONS = 500
DEFAULT_SEED = 2026


def _records(plan: SessionPlan, seed: int, history: dict[str, list[Record]]) -> tuple[Story, list[Record]]:
    """Build and render one session; ``history`` holds the records of sessions that get forked later."""
    rng = random.Random(f"{seed}:{plan.index}")
    ids = Ids(rng)
    story = build_story(plan, rng)
    rebase_story(story, gitrepos.history(plan.repo.name).files_at(plan.commit))
    if plan.era == "A":
        return story, render_legacy(plan, story, rng, ids)
    if plan.kind == "fork" and plan.parent is not None:
        return story, render_fork(plan, story, rng, ids, history[plan.parent.session_id])
    return story, render_enveloped(plan, story, rng, ids)


def generate(
    out: Path, sessions: int = DEFAULT_SESSIONS, seed: int = DEFAULT_SEED, force: bool = False
) -> list[SessionResult]:
    prepare(out, force)
    plans = build_plan(sessions, seed)
    fork_parents = {p.parent.session_id for p in plans if p.kind == "fork" and p.parent is not None}
    history: dict[str, list[Record]] = {}
    results: list[SessionResult] = []
    for plan in plans:
        story, records = _records(plan, seed, history)
        if plan.session_id in fork_parents:
            history[plan.session_id] = records
        data = encode(records)
        path = write_session(out, plan, data)
        results.append(SessionResult(plan, story, relative_path(plan), data, path.stat().st_size))
    for k, plan in enumerate(episode.plans(seed, len(plans))):
        rng = random.Random(f"{seed}:episode:{k}")
        story = episode.story_for(plan, rng)
        data = encode(render_enveloped(plan, story, rng, Ids(rng)))
        path = write_session(out, plan, data)
        results.append(SessionResult(plan, story, relative_path(plan), data, path.stat().st_size, runnable=True))
    write_bundles(out)
    write_runs(out, seed)
    (out / "CORPUS.md").write_text(render_corpus_md(results, seed), encoding="utf-8", newline="\n")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ccl_tui.demo.generate", description="Generate the deterministic demo corpus."
    )
    parser.add_argument("--out", type=Path, default=Path(DEFAULT_OUT), help="output directory (a fake $CODEX_HOME)")
    parser.add_argument("--sessions", type=int, default=DEFAULT_SESSIONS, help="number of sessions (default 500)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (default 2026)")
    parser.add_argument("--force", action="store_true", help="overwrite a corpus already in --out")
    args = parser.parse_args(argv)
    if args.sessions < 20:
        parser.error("--sessions must be at least 20")
    try:
        results = generate(args.out, args.sessions, args.seed, args.force)
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    eras = Counter(r.plan.era for r in results)
    size = sum(r.size for r in results)
    runnable = sum(r.runnable for r in results)
    print(
        f"wrote {len(results)} sessions ({len(results) - runnable} planned + {runnable} runnable, {size / 1e6:.1f} MB)"
        f" to {args.out}: era A/B/C = {eras['A']}/{eras['B']}/{eras['C']}, fix date {FIX_DATE}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
