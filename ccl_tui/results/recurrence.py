"""An issue's recurrence in real sessions: per week, and before vs after the day its fix went in.

Sessions at risk are the sessions of the repositories where the issue occurs, of the origins in scope (the
same origin filter on both sides). A session counts once however often it hit the issue. The before/after
change is standardized to the pooled origin mix, so a shift from interactive to IDE sessions around the fix
date cannot pass for an improvement.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, timedelta

from ccl_tui.model.issues import Issue, SessionInfo
from ccl_tui.model.results import Change, Rate, Recurrence, Week
from ccl_tui.results.stats import standardized_difference, wilson


def _at_risk(
    issue: Issue, infos: Mapping[str, SessionInfo], origins: Collection[str] | None
) -> list[tuple[str, str, bool]]:
    """(day, origin, hit) of every session at risk."""
    repos = set(issue.repos)
    hit = set(issue.session_ids)
    out = []
    for sid, info in infos.items():
        if info.repo not in repos or not info.started_at:
            continue
        if origins is not None and info.origin not in origins:
            continue
        out.append((info.started_at[:10], info.origin, sid in hit))
    return out


def recurrence(
    issue: Issue, infos: Mapping[str, SessionInfo], fixed_on: str, origins: Collection[str] | None = None
) -> Recurrence:
    """The issue's rate before ``fixed_on`` (exclusive) and from it on."""
    date.fromisoformat(fixed_on)  # ValueError on a bad date
    strata: dict[str, list[int]] = {}
    for day, origin, hit in _at_risk(issue, infos, origins):
        s = strata.setdefault(origin, [0, 0, 0, 0])
        if day < fixed_on:
            s[0] += hit
            s[1] += 1
        else:
            s[2] += hit
            s[3] += 1
    hb = sum(s[0] for s in strata.values())
    nb = sum(s[1] for s in strata.values())
    ha = sum(s[2] for s in strata.values())
    na = sum(s[3] for s in strata.values())
    before_std, after_std, diff, low, high = standardized_difference(
        [(s[0], s[1], s[2], s[3]) for s in strata.values()]
    )
    return Recurrence(
        fixed_on=fixed_on,
        before=Rate(hb, nb, *wilson(hb, nb)),
        after=Rate(ha, na, *wilson(ha, na)),
        change=Change(before_std, after_std, diff, low, high),
        by_origin={o: (s[0], s[1], s[2], s[3]) for o, s in strata.items()},
    )


def weeks(
    issue: Issue,
    infos: Mapping[str, SessionInfo],
    occurrences: Mapping[str, int] | None = None,
    origins: Collection[str] | None = None,
) -> list[Week]:
    """Per calendar week (Monday first): sessions at risk, sessions hit, and the issue's signals; weeks
    without sessions between the first and the last are included with zeros."""
    repos = set(issue.repos)
    hit = set(issue.session_ids)
    by_week: dict[date, Week] = {}
    for sid, info in infos.items():
        if info.repo not in repos or not info.started_at:
            continue
        if origins is not None and info.origin not in origins:
            continue
        try:
            day = date.fromisoformat(info.started_at[:10])
        except ValueError:
            continue
        monday = day - timedelta(days=day.weekday())
        w = by_week.setdefault(monday, Week(monday.isoformat(), 0, 0, 0))
        w.sessions += 1
        if sid in hit:
            w.hits += 1
            w.occurrences += (occurrences or {}).get(sid, 1)
    if not by_week:
        return []
    first, last = min(by_week), max(by_week)
    out = []
    d = first
    while d <= last:
        out.append(by_week.get(d) or Week(d.isoformat(), 0, 0, 0))
        d += timedelta(days=7)
    return out
