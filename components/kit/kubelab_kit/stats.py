"""Percentiles for the benchmarks, one definition for all of them (standard library only).

``statistics.quantiles(..., method="inclusive")``: the q-th percentile interpolates between the
sorted samples, and the 0th and 100th are the minimum and maximum.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], q: int) -> float:
    """The ``q``-th percentile (0 to 100) of ``values``; NaN when there are none."""
    if not 0 <= q <= 100:
        raise ValueError(f"a percentile is between 0 and 100, not {q}")
    if not values:
        return math.nan
    ordered = sorted(values)
    if q == 0 or len(ordered) == 1:
        return ordered[0] if q < 100 else ordered[-1]
    if q == 100:
        return ordered[-1]
    return statistics.quantiles(ordered, n=100, method="inclusive")[q - 1]


def summary(values: Sequence[float], scale: float = 1.0) -> dict[str, float]:
    """p50, p90, p99 and max of ``values``, each multiplied by ``scale`` (1e3: seconds to milliseconds)."""
    return {f"p{q}" if q < 100 else "max": percentile(values, q) * scale for q in (50, 90, 99, 100)}
