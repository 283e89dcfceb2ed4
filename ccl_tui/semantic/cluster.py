"""Cluster issues whose failures mean the same, with cluster ids that survive reruns.

* Clustering: agglomerative, average linkage, cosine distance, a distance threshold per embedder
  (deterministic: the same vectors give the same partition). Issues are first split into kind families
  (command failures / pushback / interrupts / context / denials / ...) and clustered within each family, so a
  denied ``npm install`` never merges with a failing ``npm install``.
* Stable ids: a new cluster inherits the id of the previous cluster it shares the most members with
  (one-to-one, greedy by overlap); a cluster with no predecessor gets ``C-`` + a hash of its
  lexicographically smallest member signature. So ids survive reruns, added members and most splits.
* Cluster ranking: the cluster's impact is the issue impact formula (sessions x severity x cost x recency)
  applied to the union of its members' signals, so a session hit by two members counts once. Without
  signals the fallback is the sum of member impacts.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ccl_tui.model.issues import Impact, Issue

if TYPE_CHECKING:
    import numpy as np

    from ccl_tui.config.settings import ImpactWeights
    from ccl_tui.model.issues import SessionInfo
    from ccl_tui.model.signals import Signal

#: Issues are only merged within one family.
FAMILIES: dict[str, str] = {
    "command_failure": "failure",
    "retry_loop": "failure",
    "error": "failure",
    "patch_failure": "failure",
    "timeout": "timeout",
    "denial": "denial",
    "approval_wait": "denial",
    "context_truncation": "context",
    "interrupt": "interrupt",
    "user_pushback": "pushback",
}


def family(kind: str) -> str:
    return FAMILIES.get(kind, kind)


def cluster_labels(vectors: np.ndarray, threshold: float) -> list[int]:
    """Labels 0..k-1 from average-linkage agglomerative clustering with a cosine distance threshold.

    Labels are renumbered by first appearance, so the output depends only on the input order and vectors.
    """
    import numpy as np

    n = len(vectors)
    if n == 0:
        return []
    if n == 1:
        return [0]
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average", distance_threshold=threshold)
    raw = model.fit_predict(np.asarray(vectors, dtype=np.float64))
    remap: dict[int, int] = {}
    return [remap.setdefault(int(lab), len(remap)) for lab in raw]


def group_by_family(kinds: Sequence[str], vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Groups of row indexes; each group is clustered within its kind family. Sorted deterministically."""
    by_family: dict[str, list[int]] = defaultdict(list)
    for i, k in enumerate(kinds):
        by_family[family(k)].append(i)
    groups: list[list[int]] = []
    for fam in sorted(by_family):
        idx = by_family[fam]
        labels = cluster_labels(vectors[idx], threshold)
        members: dict[int, list[int]] = defaultdict(list)
        for i, lab in zip(idx, labels, strict=True):
            members[lab].append(i)
        groups.extend(members.values())
    return sorted(groups, key=lambda g: min(g))


# --------------------------------------------------------------------------------------------- stable ids
def fresh_id(signatures: Iterable[str]) -> str:
    smallest = min(signatures)
    return "C-" + hashlib.sha1(smallest.encode("utf-8")).hexdigest()[:10]


def stable_ids(clusters: Sequence[Sequence[tuple[str, str]]], previous: Mapping[str, str]) -> list[str]:
    """An id for each cluster of ``(issue_id, signature)`` members.

    ``previous`` maps issue id -> the cluster id it had in the last run. Each previous id goes to at most one
    new cluster: the one sharing the most members with it (ties: the cluster with the smallest signature).
    Clusters without a predecessor get a hash of their smallest signature (made unique if needed).
    """
    keys = [min(sig for _, sig in c) for c in clusters]
    overlaps: list[tuple[int, str, str, int]] = []
    for ci, c in enumerate(clusters):
        counts: dict[str, int] = defaultdict(int)
        for iid, _ in c:
            old = previous.get(iid)
            if old:
                counts[old] += 1
        overlaps.extend((-n, keys[ci], old, ci) for old, n in counts.items())
    overlaps.sort()
    ids: list[str | None] = [None] * len(clusters)
    taken: set[str] = set()
    for _neg, _key, old, ci in overlaps:
        if ids[ci] is None and old not in taken:
            ids[ci] = old
            taken.add(old)
    for ci in sorted(range(len(clusters)), key=lambda i: keys[i]):
        if ids[ci] is None:
            cid = fresh_id([keys[ci]])
            n = 2
            while cid in taken:
                cid = fresh_id([f"{keys[ci]}#{n}"])
                n += 1
            ids[ci] = cid
            taken.add(cid)
    return [i for i in ids if i is not None]


# --------------------------------------------------------------------------------------------- ranking
@dataclass(slots=True)
class Cluster:
    """Issues that mean the same. ``model_derived``: name/summary were written by the LLM."""

    id: str
    name: str
    members: list[Issue]
    impact: Impact
    summary: str = ""
    model_derived: bool = False
    embedder: str = ""
    rank: int = 0
    signatures: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return self.impact.impact

    @property
    def sessions(self) -> int:
        return self.impact.sessions


def summed_impact(members: Sequence[Issue]) -> Impact:
    """Fallback cluster impact: the sum of member impacts (sessions may be counted twice)."""
    top = max(members, key=lambda i: i.impact.impact)
    total = round(sum(i.impact.impact for i in members), 2)
    return replace(top.impact, sessions=sum(i.impact.sessions for i in members), impact=total)


def cluster_impacts(
    membership: Mapping[str, list[Issue]],
    signals: Iterable[Signal],
    infos: Mapping[str, SessionInfo],
    weights: ImpactWeights | None = None,
) -> dict[str, Impact]:
    """Impact per cluster id: the issue formula over the union of its members' signals (pure)."""
    from ccl_tui.issues.build import build_issues

    sig_to_cluster = {i.signature: cid for cid, members in membership.items() for i in members}
    relabelled: list[Signal] = []
    for s in signals:
        cid = sig_to_cluster.get(s.signature)
        if cid is not None:
            relabelled.append(replace(s, signature=cid))
    built = build_issues(relabelled, dict(infos), weights)
    out = {i.signature: i.impact for i in built}
    for cid, members in membership.items():
        if cid not in out and members:
            out[cid] = summed_impact(members)
    return out


def rank_clusters(clusters: list[Cluster]) -> list[Cluster]:
    clusters.sort(key=lambda c: (-c.impact.impact, -c.impact.sessions, c.id))
    for r, c in enumerate(clusters, 1):
        c.rank = r
    return clusters


# --------------------------------------------------------------------------------------------- quality
def purity(labels: Sequence[int], truth: Sequence[str]) -> float:
    """Share of items whose cluster's majority true group is their own group (1.0 = no cluster mixes)."""
    by: dict[int, list[str]] = defaultdict(list)
    for lab, t in zip(labels, truth, strict=True):
        by[lab].append(t)
    return sum(max(ts.count(x) for x in set(ts)) for ts in by.values()) / max(1, len(truth))


def inverse_purity(labels: Sequence[int], truth: Sequence[str]) -> float:
    """Share of items that sit in their group's largest cluster (1.0 = no group is split)."""
    return purity(list(map(hash, truth)), [str(lab) for lab in labels]) if truth else 0.0
