"""Change points: the issues whose rate dropped after some date, found from the data alone (a fix date to suggest).

For each candidate issue the sessions at risk are the in-scope sessions of the repositories where it
occurs (weekly rates and the before/after of a marked fix: ``ccl_tui.results.recurrence``). Every split day with enough sessions on both sides is scored with a two-proportion z-test
(rate before vs after); the most significant split is kept when the drop is large and significant.
Nothing about the corpus (or a known fix date) is assumed.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from ccl_tui.model.issues import Issue, SessionInfo


@dataclass(slots=True)
class ChangePoint:
    issue_id: str
    title: str
    split: str  # YYYY-MM-DD: first day of the "after" period
    before_rate: float  # share of sessions at risk affected before the split
    after_rate: float
    before_sessions: int  # sessions at risk before / after
    after_sessions: int
    before_hits: int
    after_hits: int
    z: float = 0.0  # two-proportion z statistic of the drop

    @property
    def drop(self) -> float:
        return 1 - self.after_rate / self.before_rate if self.before_rate else 0.0


def find_change_points(
    issues: Iterable[Issue],
    infos: dict[str, SessionInfo],
    *,
    top: int = 20,
    min_sessions: int = 20,
    min_drop: float = 0.5,
    min_z: float = 3.0,
    origins: Collection[str] | None = None,
) -> list[ChangePoint]:
    """Issues (among the top ``top``) whose rate fell by at least ``min_drop`` with z >= ``min_z``,
    most significant first. ``origins``: the origins the issues were ranked over (sessions of other origins
    cannot count as hit, so they are not at risk either)."""
    if origins is not None:
        infos = {sid: i for sid, i in infos.items() if i.origin in origins}
    out = []
    for issue in list(issues)[:top]:
        best = _best_split(issue, infos, min_sessions)
        if best is not None and best.drop >= min_drop and best.z >= min_z:
            out.append(best)
    out.sort(key=lambda i: (-i.z, i.issue_id))
    return out


def _z(h1: int, n1: int, h2: int, n2: int) -> float:
    p = (h1 + h2) / (n1 + n2)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return (h1 / n1 - h2 / n2) / se if se > 0 else 0.0


def _best_split(issue: Issue, infos: dict[str, SessionInfo], min_sessions: int) -> ChangePoint | None:
    repos = set(issue.repos)
    hit = set(issue.session_ids)
    at_risk = sorted(
        ((i.started_at or "")[:10], sid in hit) for sid, i in infos.items() if i.repo in repos and i.started_at
    )
    if len(at_risk) < 2 * min_sessions:
        return None
    days = sorted({d for d, _ in at_risk})
    total_hits = sum(h for _, h in at_risk)
    best: ChangePoint | None = None
    before_n = before_hits = 0
    idx = 0
    for day in days:
        while idx < len(at_risk) and at_risk[idx][0] < day:
            before_n += 1
            before_hits += at_risk[idx][1]
            idx += 1
        after_n = len(at_risk) - before_n
        if before_n < min_sessions or after_n < min_sessions or before_hits == 0:
            continue
        after_hits = total_hits - before_hits
        cand = ChangePoint(
            issue.id,
            issue.title,
            day,
            before_hits / before_n,
            after_hits / after_n,
            before_n,
            after_n,
            before_hits,
            after_hits,
            _z(before_hits, before_n, after_hits, after_n),
        )
        if best is None or cand.z > best.z + 1e-9:
            best = cand
    return best
