"""Corpus-level plan: who ran which Codex build on which repository when, and what went wrong."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ccl_tui.demo import clock, gitrepos
from ccl_tui.demo.causes import TAIL
from ccl_tui.demo.clock import FIRST_DAY, FIX_DATE, LAST_DAY
from ccl_tui.demo.fake_secrets import KINDS as SECRET_KINDS
from ccl_tui.demo.ids import Ids
from ccl_tui.demo.repos import PY, REPOS, RS, TS, Developer, Repo, developers_for

__all__ = ["FIRST_DAY", "FIX_DATE", "LAST_DAY", "SessionPlan", "build_plan", "layout_counts", "span_fraction"]
# FIX_DATE: AGENTS.md gains "run `uv sync` first" (a real commit): py_missing_module becomes rare from this day on

LEGACY_VERSIONS = (None, None, None, "0.34.0", "0.35.0", "0.36.0")
B_VERSIONS = ("0.50.0", "0.53.0", "0.58.0", "0.63.0", "0.69.0", "0.77.0", "0.80.0")
C_VERSIONS = ("0.104.0", "0.110.0", "0.115.0", "0.118.0", "0.121.0", "0.125.0")
MODELS = {
    "0.5": ("gpt-5-codex", "gpt-5-codex", "gpt-5.1-codex"),
    "0.6": ("gpt-5.1-codex", "gpt-5.1-codex-max"),
    "0.7": ("gpt-5.1-codex-max", "gpt-5.2-codex"),
    "0.8": ("gpt-5.1-codex-max", "gpt-5.2-codex"),
    "0.10": ("gpt-5.2-codex", "gpt-5.3-codex"),
    "0.11": ("gpt-5.3-codex", "gpt-5.3-codex", "gpt-5.5"),
    "0.12": ("gpt-5.3-codex", "gpt-5.5"),
}
WIDE_WINDOW_MODELS = ("gpt-5-codex", "gpt-5.1-codex", "gpt-5.1-codex-max")


@dataclass(slots=True)
class SessionPlan:
    start_ms: int
    repo: Repo
    dev: Developer
    kind: str = "task"  # task | exec | review | subagent | fork
    era: str = "C"  # A (unenveloped) | B | C
    cli_version: str | None = None
    originator: str = "codex-tui"
    source: object = "cli"
    model: str = "gpt-5.3-codex"
    effort: str = "medium"
    branch: str = "main"
    commit: str = ""  # a real commit of the repository's history (gitrepos.py)
    log: tuple[str, ...] = ()  # `git log --oneline -5` at that commit
    session_id: str = ""
    index: int = 0
    causes: list[str] = field(default_factory=list)
    long: bool = False
    hiccup: bool = False
    secret: str | None = None
    archived: bool = False
    zst: bool = False
    parent: SessionPlan | None = None  # fork source / spawning thread

    @property
    def day(self) -> str:
        return clock.local_date(self.start_ms)

    @property
    def post_fix(self) -> bool:
        return self.day >= FIX_DATE

    @property
    def interactive(self) -> bool:
        return self.kind in ("task", "fork")

    @property
    def window(self) -> int:
        return 272000 if self.model in WIDE_WINDOW_MODELS else 258400

    @property
    def cwd(self) -> str:
        return f"/home/{self.dev.name}/src/{self.repo.name}"


def layout_counts(n: int) -> dict[str, int]:
    """How many sessions get each special treatment (8/15/6/3/2/3/10 for the default 500)."""

    def scaled(k: int) -> int:
        return max(1, round(n * k / 500))

    return {
        "legacy": scaled(8),
        "archived": scaled(15),
        "zst": scaled(6),
        "forks": min(3, max(1, n // 150)),
        "subagents": min(2, max(1, n // 200)),
        "reviews": min(3, max(1, n // 150)),
        "secrets": scaled(10),
    }


def _start_times(rng: random.Random, n: int) -> list[int]:
    days = [FIRST_DAY + timedelta(days=i) for i in range((LAST_DAY - FIRST_DAY).days + 1)]
    weights = [1.0 if d.weekday() < 5 else 0.12 for d in days]
    hours = list(range(8, 21))
    hour_weights = [2, 5, 8, 9, 6, 7, 9, 9, 8, 6, 4, 2, 1]
    out = []
    for _ in range(n):
        d = rng.choices(days, weights)[0]
        h = rng.choices(hours, hour_weights)[0]
        wall = datetime(d.year, d.month, d.day, h, rng.randint(0, 59), rng.randint(0, 59))
        out.append(clock.from_local(wall) + rng.randint(0, 999))
    return sorted(out)


def span_fraction(ms: int) -> float:
    """Where ``ms`` falls in the corpus time span (0 on FIRST_DAY 00:00, 1 on LAST_DAY 23:59, local time)."""
    return _frac(ms)


def _frac(ms: int) -> float:
    first = clock.from_local(datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day))
    last = clock.from_local(datetime(LAST_DAY.year, LAST_DAY.month, LAST_DAY.day, 23, 59))
    return (ms - first) / (last - first)


def _pick_version(rng: random.Random, versions: tuple[str, ...], frac: float) -> str:
    i = int(frac * len(versions) + rng.uniform(-1.5, 1.5))
    return versions[min(max(i, 0), len(versions) - 1)]


def _model(rng: random.Random, version: str) -> str:
    minor = version.split(".")[1]
    key = "0." + (minor[:2] if len(minor) == 3 else minor[:1])
    return rng.choice(MODELS[key])


def _origin(rng: random.Random, p: SessionPlan) -> None:
    roll = rng.random()
    if p.era == "A":
        p.originator, p.source = "codex_cli_rs", None
    elif roll < 0.21:
        p.kind, p.originator, p.source = "exec", "codex_exec", "exec"
    elif roll < 0.36:
        desktop = p.era == "C" and rng.random() < 0.5
        p.originator, p.source = ("Codex Desktop" if desktop else "codex_vscode"), "vscode"
    else:
        p.originator, p.source = ("codex-tui" if p.era == "C" else "codex_cli_rs"), "cli"


def _assign_client(rng: random.Random, p: SessionPlan, legacy: float | None) -> None:
    """``legacy`` is the session's position (0..1) among the unenveloped-era sessions, or None."""
    frac = _frac(p.start_ms)
    if legacy is not None:
        p.era, p.cli_version = "A", LEGACY_VERSIONS[int(legacy * len(LEGACY_VERSIONS))]
    elif p.kind == "task" and rng.random() < 0.55 - 0.45 * frac:
        p.era, p.cli_version = "B", _pick_version(rng, B_VERSIONS, frac)
    else:
        p.era, p.cli_version = "C", _pick_version(rng, C_VERSIONS, frac)
    if p.kind == "task":
        _origin(rng, p)
    if p.era != "A":
        p.model = _model(rng, p.cli_version or "")
    p.effort = rng.choice(("medium", "medium", "high") if p.era != "C" else ("medium", "high", "high", "xhigh"))


def _assign_causes(rng: random.Random, p: SessionPlan) -> None:
    if p.kind == "review":
        return
    lang = p.repo.lang
    if lang == PY and rng.random() < (0.08 if p.post_fix else 0.5):
        p.causes.append("py_missing_module")
    if lang == TS and rng.random() < 0.38:
        p.causes.append("npm_eai_again")
    if rng.random() < 0.11:
        p.causes.append("patch_mismatch")
    if lang == RS and rng.random() < 0.5:
        p.causes.append("rust_e0433")
    if rng.random() < 0.24:
        tail = [c for c in TAIL if c.applies(p.repo) and (p.interactive or c.phase != "followup")]
        if tail:
            p.causes.append(rng.choices(tail, [c.weight for c in tail])[0].key)
    p.long = p.kind == "task" and p.era != "A" and rng.random() < 0.09
    p.hiccup = p.era == "C" and rng.random() < 0.12


def _fork_of(rng: random.Random, parent: SessionPlan) -> SessionPlan:
    fork = SessionPlan(parent.start_ms + rng.randint(3 * 3600, 5 * 3600) * 1000, parent.repo, parent.dev, "fork")
    fork.parent = parent
    fork.era, fork.cli_version, fork.model, fork.effort = "C", parent.cli_version, parent.model, parent.effort
    fork.originator, fork.source, fork.branch = parent.originator, parent.source, parent.branch
    return fork


def _take(rng: random.Random, pool: list[SessionPlan], k: int) -> list[SessionPlan]:
    return rng.sample(pool, min(k, len(pool)))


def _spawner(plans: list[SessionPlan], p: SessionPlan) -> SessionPlan | None:
    """The latest earlier era-C task session on the same repository (the thread a sub-agent is spawned from)."""
    earlier = [q for q in plans if q.repo is p.repo and q.start_ms < p.start_ms and q.kind == "task" and q.era == "C"]
    return earlier[-1] if earlier else None


def _special(rng: random.Random, plans: list[SessionPlan], counts: dict[str, int]) -> list[SessionPlan]:
    """Turn some slots into reviews and sub-agents, and replace others by forks of earlier sessions."""
    pool = [p for p in plans if p.kind == "task" and p.era == "C" and p.originator == "codex-tui" and not p.long]
    for p in _take(rng, [p for p in pool if _spawner(plans, p)], counts["subagents"]):
        p.kind, p.parent, p.causes = "subagent", _spawner(plans, p), []
    pool = [p for p in pool if p.kind == "task"]
    for p in _take(rng, pool, counts["reviews"]):
        p.kind, p.source, p.causes = "review", {"subagent": "review"}, []
    pool = [p for p in pool if p.kind == "task"]
    chosen = _take(rng, pool, counts["forks"] * 2)
    parents, dropped = chosen[: len(chosen) // 2], chosen[len(chosen) // 2 :]
    forks = [_fork_of(rng, parent) for parent in sorted(parents, key=lambda q: q.start_ms)]
    return [p for p in plans if p not in dropped] + forks


def build_plan(n: int, seed: int) -> list[SessionPlan]:
    rng = random.Random(seed)
    counts = layout_counts(n)
    plans: list[SessionPlan] = []
    legacy_done = 0
    for ms in _start_times(rng, n):
        repo = rng.choices(REPOS, [r.weight for r in REPOS])[0]
        p = SessionPlan(ms, repo, rng.choice(developers_for(repo)))
        legacy = None
        if legacy_done < counts["legacy"] and p.dev.name == "tom" and repo.lang in (PY, TS):
            legacy, legacy_done = legacy_done / counts["legacy"], legacy_done + 1
        _assign_client(rng, p, legacy)
        _assign_causes(rng, p)
        plans.append(p)
    plans = sorted(_special(rng, plans, counts), key=lambda p: p.start_ms)
    _finalize(rng, plans, counts)
    return plans


def _finalize(rng: random.Random, plans: list[SessionPlan], counts: dict[str, int]) -> None:
    ids = Ids(rng)
    # Forty commit slots per repository, drawn as random hashes before the histories were real: the draws stay
    # (so every later random choice, and the rest of the corpus, stays the same); each slot is a real commit.
    drawn = {repo.name: [ids.hex(40) for _ in range(gitrepos.SLOTS)] for repo in REPOS}
    for i, p in enumerate(plans):
        p.index = i
        p.session_id = ids.uuid7(p.start_ms)
        pool = drawn[p.repo.name]
        slot = min(len(pool) - 1, max(0, int(_frac(p.start_ms) * len(pool)) + rng.randint(-1, 1)))
        history = gitrepos.history(p.repo.name)
        commit = history.commit_for(slot, p.post_fix)
        p.commit, p.log = commit.sha, tuple(history.log(commit.sha))
        if p.kind != "fork":
            p.branch = rng.choice(("main",) * 3 + p.repo.branches[1:])
    plain = [p for p in plans if p.kind in ("task", "exec") and not p.long]
    early = [p for p in plain if _frac(p.start_ms) < 0.5 and p.era != "A"]
    for p in _take(rng, early, counts["archived"]):
        p.archived = True
    modern = [p for p in plain if p.era == "C" and p.cli_version in C_VERSIONS[-2:] and not p.archived]
    for p in _take(rng, modern, counts["zst"]):
        p.zst = True
    carriers = [p for p in plain if p.era != "A" and not p.zst]
    for n, p in enumerate(sorted(_take(rng, carriers, counts["secrets"]), key=lambda q: q.start_ms)):
        p.secret = SECRET_KINDS[n % len(SECRET_KINDS)]
