"""CORPUS.md: what was generated, counted from the generated sessions themselves."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ccl_tui.demo import clock, episode, gitrepos, phrases
from ccl_tui.demo.causes import CAUSES, MISSING_MODULE_TEXT, TOP
from ccl_tui.demo.harbor_runs import SIMULATED_SUFFIX, TRIALS_PER_TASK
from ccl_tui.demo.plan import FIX_DATE, SessionPlan
from ccl_tui.demo.steps import Exec, Story


@dataclass(slots=True)
class SessionResult:
    plan: SessionPlan
    story: Story
    path: Path  # relative to the output directory
    data: bytes  # uncompressed JSONL
    size: int  # bytes on disk
    runnable: bool = False  # a session of the runnable episode (episode.py)

    def has(self, needle: bytes) -> bool:
        return needle in self.data

    @property
    def compacted(self) -> bool:
        return b'"type":"compacted"' in self.data


def _table(header: tuple[str, ...], rows: Iterable[tuple[object, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _counts(title: str, counter: Counter[str]) -> list[str]:
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    return [f"### {title}", "", *_table(("value", "sessions"), ranked)]


def _origin(plan: SessionPlan) -> str:
    if plan.kind in ("review", "subagent"):
        return f"{plan.originator} ({plan.kind})"
    source = plan.source if isinstance(plan.source, str) else "none (era A)"
    return f"{plan.originator} / source {source}"


def _split(results: list[SessionResult], hit: Callable[[SessionResult], bool]) -> tuple[int, int]:
    pre = sum(1 for r in results if not r.plan.post_fix and hit(r))
    post = sum(1 for r in results if r.plan.post_fix and hit(r))
    return pre, post


def _has_cause(key: str) -> Callable[[SessionResult], bool]:
    return lambda r: key in r.story.causes


def root_cause_rows(results: list[SessionResult]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    keys = [c.key for c in TOP] + sorted({k for r in results for k in r.story.causes} - {c.key for c in TOP})
    for key in keys:
        pre, post = _split(results, _has_cause(key))
        title = CAUSES[key].title if key in CAUSES else episode.TITLE
        rows.append((f"`{key}`", title, pre + post, pre, post))
    pre, post = _split(results, lambda r: r.compacted)
    rows.insert(
        len(TOP),
        (
            "`context_compaction`",
            "long session hits >85% of the context window, then compacts",
            pre + post,
            pre,
            post,
        ),
    )
    return rows


def _user_replies(results: list[SessionResult]) -> list[tuple[object, ...]]:
    groups = {
        "praise": phrases.PRAISE,
        "pushback": phrases.PUSHBACK_REVERT
        + phrases.PUSHBACK_RECHECK
        + phrases.PUSHBACK_SCOPE
        + phrases.PUSHBACK_AFTER_ABORT
        + phrases.GIVE_UP,
        "near-miss (neither)": phrases.NEAR_MISS,
    }
    rows: list[tuple[object, ...]] = []
    for name, texts in groups.items():
        prompts = [t.prompt for r in results for t in r.story.turns if t.prompt in texts]
        sessions = sum(1 for r in results if any(t.prompt in texts for t in r.story.turns))
        rows.append((name, len(prompts), sessions))
    return rows


def _fix_rows(results: list[SessionResult]) -> list[tuple[object, ...]]:
    python = [r for r in results if r.plan.repo.lang == "python"]
    rows: list[tuple[object, ...]] = []
    for label, post in (("before", False), ("on/after", True)):
        group = [r for r in python if r.plan.post_fix == post]
        hits = sum(1 for r in group if r.has(MISSING_MODULE_TEXT.encode()))
        rate = hits / len(group) if group else 0.0
        rows.append((f"{label} {FIX_DATE}", len(group), hits, f"{rate:.0%}"))
    return rows


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().split("\n") if line.strip()]
    return lines[-1] if lines else ""


def _episode_rows(results: list[SessionResult]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for r in results:
        if not r.runnable:
            continue
        p = r.plan
        bug = episode.BUGS[p.repo.name]
        runs = [s for s in r.story.steps() if isinstance(s, Exec) and s.cmd == bug.check]
        outcome = " → ".join(f"{_last_line(s.output)} (exit {s.exit_code})" for s in runs)
        commit = next(c for c in gitrepos.history(p.repo.name).commits if c.sha == p.commit)
        rows.append(
            (
                p.day,
                p.dev.name,
                f"{p.repo.name} `{commit.oneline}`",
                f"{p.era} {p.cli_version}",
                f"`{bug.check}`",
                outcome,
                f"`{r.path.as_posix()}`",
            )
        )
    return rows


def _truth_rows(results: list[SessionResult]) -> list[tuple[object, ...]]:
    planned = sum(1 for r in results if not r.runnable)
    runnable = len(results) - planned
    return [
        (
            "session records: people, prompts, agent messages, timings, token counts",
            "generated (fictional)",
            "all sessions",
        ),
        (
            "tool outputs of the planned sessions (tests, builds, installs, linters...)",
            "generated: nothing ran",
            f"{planned} planned sessions",
        ),
        (
            "repositories and commits (`repos/*.bundle`)",
            "real git repositories: every recorded commit exists",
            "all sessions",
        ),
        (
            "file contents the sessions show: `sed -n`/`nl` output, apply_patch contexts, diffs",
            "real file lines at the recorded commit (each site's code sits at the line the session shows)",
            "all sessions",
        ),
        ("`git log --oneline` output", "real history of the recorded commit", "all sessions"),
        (
            "the runnable episode's check outputs, edits and their effect",
            "real: run when the corpus was generated;"
            " the check fails at the recorded commit and passes after the session's own patches",
            f"{runnable} sessions",
        ),
        (
            f"`harbor-jobs/*{SIMULATED_SUFFIX}`",
            'simulated (`SIMULATED.md`, `"ccl_tui": {"simulated": true}`): outcomes drawn from a seeded RNG',
            "2 job folders",
        ),
        (
            "`harbor-jobs/real-*`",
            "real `harbor run` jobs (oracle, nop) of demo tasks with ccl-tui's local "
            "environment, written by `scripts/demo_harbor_runs.py` (kept when the corpus is regenerated)",
            "when present",
        ),
    ]


def render_corpus_md(results: list[SessionResult], seed: int) -> str:
    plans = [r.plan for r in results]
    runnable = sum(r.runnable for r in results)
    total = sum(r.size for r in results)
    first, last = min(p.start_ms for p in plans), max(p.start_ms for p in plans)
    layout = [
        ("sessions/YYYY/MM/DD/rollout-*.jsonl", sum(1 for p in plans if not p.archived and not p.zst)),
        ("sessions/YYYY/MM/DD/rollout-*.jsonl.zst (zstd)", sum(p.zst for p in plans)),
        ("archived_sessions/rollout-*.jsonl", sum(p.archived for p in plans)),
        ("unenveloped era A (legacy header + record_type:state)", sum(p.era == "A" for p in plans)),
        ("forked threads (forked_from_id + replayed parent history)", sum(p.kind == "fork" for p in plans)),
        ("sub-agent threads (source.subagent.thread_spawn)", sum(p.kind == "subagent" for p in plans)),
        ("/review threads (source.subagent = review)", sum(p.kind == "review" for p in plans)),
    ]
    lines = [
        "# Demo corpus",
        "",
        f"Generated by `python -m ccl_tui.demo.generate --sessions {len(plans) - runnable} --seed {seed}`; the same "
        "seed reproduces it byte for byte. Everything here is fictional (repositories, people, credentials), but the"
        " repositories are real git repositories and a few sessions' outcomes are real: see *What is generated and"
        " what is real*.",
        "",
        f"- sessions: {len(plans)} ({len(plans) - runnable} planned + {runnable} of the runnable episode;"
        f" {total:,} bytes on disk)",
        f"- time span: {clock.local_date(first)} .. {clock.local_date(last)} ({clock.TIMEZONE}: file names and date "
        "folders use local time, record timestamps are UTC)",
        f'- fix date: **{FIX_DATE}** — AGENTS.md of the Python repositories starts saying "Run `uv sync` first"',
        f"- repos/: one git bundle per repository ({len(gitrepos.histories())}), see `repos/README.md`",
        f"- harbor-jobs/: two SIMULATED job folders (`*{SIMULATED_SUFFIX}`, before and after the fix) of the tasks"
        f" for three top issues, {TRIALS_PER_TASK} trials each, outcomes drawn from a seeded RNG (only the fixed"
        " issue's task improves); and, when `scripts/demo_harbor_runs.py` has been run, real `harbor run` jobs"
        " (`real-oracle`, `real-nop`) of the runnable tasks and top-issue tasks with ccl-tui's local environment."
        " `ccl-tui demo` imports them; by hand: `ccl-tui results import demo_sessions/harbor-jobs`",
        "",
        "## What is generated and what is real",
        "",
        *_table(("part", "what it is", "where"), _truth_rows(results)),
        "## The runnable episode",
        "",
        "Two regressions in the real histories (`perf:` commits in `billing-api` and `etl-pipeline`) break a "
        "standard-library `unittest` module. These sessions run it (it fails at their commit), try a first fix "
        "(not enough), ask, and fix it for good; the outputs below are what the runs printed at generation "
        "(path of the temporary checkout replaced by the session's cwd, the run time drawn from the seed). "
        "`tests/test_demo_episode.py` re-runs each check at the recorded commit (fails) and after the session's "
        "patches (passes).",
        "",
        *_table(
            ("day", "developer", "repository, commit", "era", "check", "runs (last line)", "file"),
            _episode_rows(results),
        ),
        "## Layout",
        "",
        *_table(("kind", "sessions"), layout),
        "## Sessions",
        "",
        *_counts(
            "By format era",
            Counter(
                {
                    "A": "A (unenveloped, cli ≤0.36)",
                    "B": "B (enveloped, cli 0.5x-0.8x)",
                    "C": "C (enveloped, cli 0.10x-0.12x)",
                }[p.era]
                for p in plans
            ),
        ),
        *_counts("By CLI version", Counter(p.cli_version or "none (early era A)" for p in plans)),
        *_counts("By origin", Counter(_origin(p) for p in plans)),
        *_counts("By repository", Counter(f"{p.repo.org}/{p.repo.name} ({p.repo.lang})" for p in plans)),
        *_counts(
            "By model (turn_context.model)",
            Counter(p.model if p.era != "A" else "none (era A)" for p in plans),
        ),
        "## Injected root causes",
        "",
        "Sessions in which each root cause was woven in (a session can have several). The first five dominate; "
        "the rest is the long tail.",
        "",
        *_table(("key", "what happens", "sessions", f"before {FIX_DATE}", "on/after"), root_cause_rows(results)),
        "## The fixed issue",
        "",
        f"Python sessions whose raw lines contain `{MISSING_MODULE_TEXT}`:",
        "",
        *_table(("period", "python sessions", "with the error", "rate"), _fix_rows(results)),
        "## Other signals",
        "",
        *_table(("user reply", "messages", "sessions"), _user_replies(results)),
        *_table(
            ("signal", "sessions"),
            (
                ("turn_aborted (user interrupt)", sum(r.has(b'"turn_aborted"') for r in results)),
                ("approval denied (`rejected by user`)", sum(r.has(b"rejected by user") for r in results)),
                (
                    "tool output truncated (`Total output lines:`)",
                    sum(r.has(b"Total output lines:") for r in results),
                ),
                (
                    "error / stream_error events",
                    sum(r.has(b'"type":"stream_error"') or r.has(b'"type":"error"') for r in results),
                ),
            ),
        ),
        "## Planted fake secrets",
        "",
        "Obviously fake but pattern-valid credentials, so that redaction has something to find.",
        "",
        *_table(
            ("session", "kind", "file"),
            (
                (r.plan.session_id, ", ".join(r.story.secrets), f"`{r.path.as_posix()}`")
                for r in results
                if r.story.secrets
            ),
        ),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"
