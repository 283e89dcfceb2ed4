"""Plain dataclasses of the results layer: trials and runs read from Harbor, fixes, rates and comparisons."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ccl_tui.text.numbers import pct

#: Exceptions after which Harbor still counts the reward as a measurement of the agent
#: (harbor.models.trial.error_policy: the AGENT_EXHAUSTED_BUDGET and AGENT_REFUSED_TASK causes).
AGENT_CAUSED_EXCEPTIONS = frozenset(
    {
        "AgentTimeoutError",
        "ContextWindowExceededError",
        "OutputTokenExceededError",
        "ContextLengthExceededError",
        "OutputLengthExceededError",
        "AgentSafetyRefusalError",
        "ContentPolicyViolationError",
    }
)


@dataclass(slots=True)
class Trial:
    """One trial of a Harbor job (one ``result.json``), as far as ccl-tui needs it."""

    trial_id: str
    trial_name: str
    task_name: str
    task_path: str | None
    task_checksum: str | None
    reward: float | None  # the "reward" key, else the mean of the reward dict; None: no verifier result
    rewards: dict[str, float]
    exception_type: str | None
    exception_message: str | None
    agent: str | None
    agent_version: str | None
    model: str | None
    started_at: str | None
    finished_at: str | None
    cost_usd: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    issue_id: str | None = None  # filled by matching
    match: str = ""  # how the issue was found: metadata | name | signal | "" (unmatched)

    @property
    def errored(self) -> bool:
        return self.exception_type is not None

    @property
    def graded(self) -> bool:
        """Does this trial measure the agent? (Harbor's ``reward_valid`` rule.)

        A clean trial needs a verifier result; an agent timeout or refusal is a failed measurement; an
        infrastructure, provider or verifier error says nothing about the agent and is left out of rates.
        """
        if self.exception_type is None:
            return self.reward is not None
        return self.exception_type in AGENT_CAUSED_EXCEPTIONS

    @property
    def passed(self) -> bool:
        return self.graded and self.reward is not None and self.reward >= 1.0


@dataclass(slots=True)
class Skipped:
    path: str
    reason: str


@dataclass(slots=True)
class JobRead:
    """What a job folder holds: its identity and the trials that could be read."""

    job_dir: str
    job_id: str
    started_at: str | None
    finished_at: str | None
    trials: list[Trial] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    pending: int = 0  # trial folders without a result.json yet (still running)
    provenance: str = "harbor"  # see PROVENANCES


#: Where a run's outcomes come from. "harbor": a Harbor run in its own environments (Docker or a cloud
#: sandbox); "local": ccl-tui's LocalEnvironment (real, but not isolated: trusted agents on this machine);
#: "simulated": generated outcomes, no agent ran (the demo corpus marks its generated jobs so).
PROVENANCES = ("harbor", "local", "simulated")
#: Harbor's reference agents: ``oracle`` runs the task's own solution, ``nop`` does nothing. Their runs measure
#: the task (oracle must pass, nop must fail), not an agent.
REFERENCE_AGENTS = ("oracle", "nop")


def describe_run(label: str, provenance: str, agent: str | None) -> str:
    """A run's label with what a reader must know about its outcomes: "simulated" (no agent ran), "local,
    unisolated" (ccl-tui's LocalEnvironment), and "reference" for oracle / nop runs."""
    notes = []
    if provenance == "simulated" and "simulated" not in label.lower():
        notes.append("simulated")
    elif provenance == "local":
        notes.append("local, unisolated")
    if (agent or "") in REFERENCE_AGENTS:
        notes.append(f"{agent}: reference")
    return label + (f" ({'; '.join(notes)})" if notes else "")


@dataclass(slots=True)
class Run:
    """An imported Harbor job."""

    label: str
    job_id: str
    job_dir: str
    started_at: str | None
    finished_at: str | None
    agent: str | None
    model: str | None
    imported_at: str
    trials: int = 0
    provenance: str = "harbor"

    def describe(self) -> str:
        """The run's label with what a reader must know about its outcomes."""
        return describe_run(self.label, self.provenance, self.agent)


@dataclass(slots=True)
class ImportReport:
    run: Run
    added: int
    already: int  # trials that were imported before (re-import is idempotent)
    unmatched: list[str]  # task names no issue could be found for
    skipped: list[Skipped]
    pending: int
    new_run: bool

    def to_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {
            "run": asdict(self.run),
            "added": self.added,
            "already_imported": self.already,
            "unmatched_tasks": self.unmatched,
            "skipped": [asdict(s) for s in self.skipped],
            "pending_trials": self.pending,
            "new_run": self.new_run,
        }


@dataclass(slots=True)
class Fix:
    issue_id: str
    fixed_on: str  # YYYY-MM-DD: the first day of the "after" period
    note: str
    marked_at: str


@dataclass(slots=True)
class Rate:
    """hits out of n, with a 95% Wilson interval."""

    hits: int
    n: int
    low: float
    high: float

    @property
    def rate(self) -> float:
        return self.hits / self.n if self.n else 0.0

    def describe(self) -> str:
        """e.g. ``25% (1/4, 95% CI 5%-70%)``"""
        return f"{pct(self.rate)} ({self.hits}/{self.n}, 95% CI {pct(self.low)}-{pct(self.high)})"

    def to_json(self) -> dict[str, Any]:
        return {
            "hits": self.hits,
            "n": self.n,
            "rate": round(self.rate, 4),
            "ci95": [round(self.low, 4), round(self.high, 4)],
        }


@dataclass(slots=True)
class RunRate:
    """An issue's tasks in one run: pass rate over graded trials."""

    label: str
    started_at: str | None
    agent: str | None
    model: str | None
    passed: Rate
    trials: int  # all trials, graded or not
    errors: int  # trials with an exception
    ungraded: int  # left out of the rate (infrastructure / provider / verifier errors)
    mean_reward: float | None
    provenance: str = "harbor"

    def describe(self) -> str:
        return describe_run(self.label, self.provenance, self.agent)

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "provenance": self.provenance,
            "started_at": self.started_at,
            "agent": self.agent,
            "model": self.model,
            "pass_rate": self.passed.to_json(),
            "trials": self.trials,
            "errors": self.errors,
            "ungraded": self.ungraded,
            "mean_reward": self.mean_reward,
        }


@dataclass(slots=True)
class Change:
    """``after - before`` of two rates with a 95% interval; significant when the interval excludes 0."""

    before: float
    after: float
    difference: float
    low: float
    high: float

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0

    def describe(self) -> str:
        """e.g. ``+55 points (95% CI -7 to +81)``"""
        return f"{100 * self.difference:+.0f} points (95% CI {100 * self.low:+.0f} to {100 * self.high:+.0f})"

    def to_json(self) -> dict[str, Any]:
        return {
            "before": round(self.before, 4),
            "after": round(self.after, 4),
            "difference": round(self.difference, 4),
            "ci95": [round(self.low, 4), round(self.high, 4)],
            "significant": self.significant,
        }


@dataclass(slots=True)
class Recurrence:
    """An issue's rate in real sessions before and after its fix date (sessions at risk: same repositories,
    in-scope origins), crude with Wilson intervals and standardized to one origin mix."""

    fixed_on: str
    before: Rate
    after: Rate
    change: Change  # origin-standardized, after - before
    by_origin: dict[str, tuple[int, int, int, int]]  # origin -> (hits before, n before, hits after, n after)

    @property
    def verdict(self) -> str:
        if self.after.n == 0:
            return "no sessions since the fix yet"
        if self.before.n == 0:
            return "no sessions before the fix"
        if self.change.high < 0:
            return "dropped"
        if self.change.low > 0:
            return "rose"
        return "no significant change"

    def to_json(self) -> dict[str, Any]:
        return {
            "fixed_on": self.fixed_on,
            "before": self.before.to_json(),
            "after": self.after.to_json(),
            "change": self.change.to_json(),
            "verdict": self.verdict,
            "by_origin": {
                o: {"before": [hb, nb], "after": [ha, na]} for o, (hb, nb, ha, na) in sorted(self.by_origin.items())
            },
        }


@dataclass(slots=True)
class Week:
    week: str  # Monday, YYYY-MM-DD
    sessions: int  # sessions at risk
    hits: int  # sessions the issue hit
    occurrences: int  # signals of the issue

    @property
    def rate(self) -> float:
        return self.hits / self.sessions if self.sessions else 0.0

    def contains(self, day: str | None) -> bool:
        """Is ``day`` (YYYY-MM-DD) in this week?"""
        if not day:
            return False
        from datetime import date, timedelta

        return self.week <= day < (date.fromisoformat(self.week) + timedelta(days=7)).isoformat()


@dataclass(slots=True)
class IssueImprovement:
    issue_id: str
    title: str
    rank: int
    fix: Fix | None
    runs: list[RunRate]
    run_change: Change | None  # pass rate after-run minus baseline-run
    baseline: str | None
    after: str | None
    recurrence: Recurrence | None
    weeks: list[Week]

    def to_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {
            "issue_id": self.issue_id,
            "title": self.title,
            "rank": self.rank,
            "fix": asdict(self.fix) if self.fix else None,
            "runs": [r.to_json() for r in self.runs],
            "pass_rate_change": None
            if self.run_change is None
            else {"baseline_run": self.baseline, "after_run": self.after, **self.run_change.to_json()},
            "recurrence": self.recurrence.to_json() if self.recurrence else None,
            "weeks": [
                {
                    "week": w.week,
                    "sessions": w.sessions,
                    "hits": w.hits,
                    "occurrences": w.occurrences,
                    "rate": round(w.rate, 4),
                }
                for w in self.weeks
            ],
        }
