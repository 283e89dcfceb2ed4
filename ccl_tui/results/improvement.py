"""Per issue: pass rate in each imported run, the change between two runs, and recurrence around its fix."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping

from ccl_tui.model.issues import Issue, SessionInfo
from ccl_tui.model.results import REFERENCE_AGENTS, Change, Fix, IssueImprovement, Rate, Run, RunRate, Trial
from ccl_tui.results.recurrence import recurrence, weeks
from ccl_tui.results.stats import newcombe, wilson


def run_rate(run: Run, trials: list[Trial]) -> RunRate:
    graded = [t for t in trials if t.graded]
    passed = sum(t.passed for t in graded)
    rewards = [t.reward if t.reward is not None else 0.0 for t in graded]
    return RunRate(
        label=run.label,
        started_at=run.started_at,
        agent=run.agent,
        model=run.model,
        passed=Rate(passed, len(graded), *wilson(passed, len(graded))),
        trials=len(trials),
        errors=sum(t.errored for t in trials),
        ungraded=len(trials) - len(graded),
        mean_reward=round(sum(rewards) / len(rewards), 4) if rewards else None,
        provenance=run.provenance,
    )


def compare(before: RunRate, after: RunRate) -> Change:
    b, a = before.passed, after.passed
    low, high = newcombe(b.hits, b.n, a.hits, a.n)
    return Change(b.rate, a.rate, a.rate - b.rate, low, high)


def pick_runs(runs: list[Run], baseline: str | None, after: str | None) -> tuple[str | None, str | None]:
    """The two runs to compare: the given labels, else the oldest and the newest run of an agent under test
    (reference runs of oracle/nop only when there is nothing else). Raises KeyError."""
    labels = [r.label for r in runs]
    for name in (baseline, after):
        if name is not None and name not in labels:
            raise KeyError(name)
    measured = [r.label for r in runs if (r.agent or "") not in REFERENCE_AGENTS] or labels
    if baseline is None:
        baseline = measured[0] if measured else None
    if after is None:
        after = measured[-1] if measured else None
    return baseline, after


def issue_improvements(
    issues: list[Issue],
    infos: Mapping[str, SessionInfo],
    runs: list[Run],
    trials: list[tuple[str, Trial]],
    fixes: Mapping[str, Fix],
    *,
    baseline: str | None = None,
    after: str | None = None,
    origins: Collection[str] | None = None,
    occurrences: Mapping[str, Mapping[str, int]] | None = None,
    only_tracked: bool = True,
) -> list[IssueImprovement]:
    """One entry per issue that has trials or a fix (every issue when ``only_tracked`` is False), in rank order."""
    base_label, after_label = pick_runs(runs, baseline, after)
    by_issue: dict[str, dict[str, list[Trial]]] = defaultdict(lambda: defaultdict(list))
    for label, t in trials:
        if t.issue_id:
            by_issue[t.issue_id][label].append(t)
    out = []
    for issue in issues:
        fix = fixes.get(issue.id)
        per_run = by_issue.get(issue.id, {})
        if only_tracked and fix is None and not per_run:
            continue
        rates = [run_rate(r, per_run[r.label]) for r in runs if r.label in per_run]
        by_label = {r.label: r for r in rates}
        change = None
        if (
            base_label
            and after_label
            and base_label != after_label
            and base_label in by_label
            and after_label in by_label
        ):
            change = compare(by_label[base_label], by_label[after_label])
        rec = recurrence(issue, infos, fix.fixed_on, origins) if fix else None
        out.append(
            IssueImprovement(
                issue_id=issue.id,
                title=issue.title,
                rank=issue.rank,
                fix=fix,
                runs=rates,
                run_change=change,
                baseline=base_label if change else None,
                after=after_label if change else None,
                recurrence=rec,
                weeks=weeks(issue, infos, (occurrences or {}).get(issue.id), origins),
            )
        )
    # trials or fixes of issues that are not in this ranking (out of scope, or their sessions are gone)
    known = {i.id for i in issues}
    for issue_id in sorted((set(by_issue) | set(fixes)) - known):
        per_run = by_issue.get(issue_id, {})
        rates = [run_rate(r, per_run[r.label]) for r in runs if r.label in per_run]
        names = sorted({t.task_name for ts in per_run.values() for t in ts})
        title = f"(not in the current ranking) {names[0]}" if names else "(not in the current ranking)"
        out.append(IssueImprovement(issue_id, title, 0, fixes.get(issue_id), rates, None, None, None, None, []))
    return out
