"""Binomial intervals: Wilson score interval for a rate, Newcombe's hybrid score interval for a difference.

Both behave at 0/n and n/n and with small n, where the normal ("Wald") interval collapses to a point.
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054


def wilson(hits: int, n: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval of ``hits / n``; (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = hits / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(hits_a: int, n_a: int, hits_b: int, n_b: int, z: float = Z95) -> tuple[float, float]:
    """95% interval of ``rate_b - rate_a`` (Newcombe 1998, method 10, from the two Wilson intervals)."""
    p_a = hits_a / n_a if n_a else 0.0
    p_b = hits_b / n_b if n_b else 0.0
    lo_a, hi_a = wilson(hits_a, n_a, z)
    lo_b, hi_b = wilson(hits_b, n_b, z)
    d = p_b - p_a
    lower = d - math.sqrt((p_b - lo_b) ** 2 + (hi_a - p_a) ** 2)
    upper = d + math.sqrt((hi_b - p_b) ** 2 + (p_a - lo_a) ** 2)
    return max(-1.0, lower), min(1.0, upper)


def standardized_difference(
    strata: list[tuple[int, int, int, int]], z: float = Z95
) -> tuple[float, float, float, float, float]:
    """Rates before and after standardized to the pooled mix of strata (e.g. session origins).

    ``strata`` holds (hits_before, n_before, hits_after, n_after) per stratum; a stratum missing on either
    side is left out (it cannot be compared). Each stratum is weighted by its share of all sessions.
    Returns (rate_before, rate_after, difference, low, high); the interval is the normal approximation
    of the weighted difference, widened to Newcombe's when there is a single stratum.
    """
    usable = [s for s in strata if s[1] > 0 and s[3] > 0]
    if not usable:
        return 0.0, 0.0, 0.0, -1.0, 1.0
    if len(usable) == 1:
        hb, nb, ha, na = usable[0]
        lo, hi = newcombe(hb, nb, ha, na, z)
        return hb / nb, ha / na, ha / na - hb / nb, lo, hi
    total = sum(nb + na for _, nb, _, na in usable)
    before = after = var = 0.0
    for hb, nb, ha, na in usable:
        w = (nb + na) / total
        pb, pa = hb / nb, ha / na
        before += w * pb
        after += w * pa
        # +0.5/(n+1) keeps the variance of a 0/n or n/n stratum above zero (a continuity floor)
        vb = max(pb * (1 - pb), 0.5 / (nb + 1)) / nb
        va = max(pa * (1 - pa), 0.5 / (na + 1)) / na
        var += w * w * (vb + va)
    d = after - before
    half = z * math.sqrt(var)
    return before, after, d, max(-1.0, d - half), min(1.0, d + half)
