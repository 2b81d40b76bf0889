"""One percentile definition for every benchmark."""

from __future__ import annotations

import math

import pytest

from kubelab_kit.stats import percentile, summary


def test_percentiles_interpolate_between_sorted_samples() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # unsorted on purpose
    assert percentile(values, 0) == 1 and percentile(values, 100) == 100
    assert percentile(values, 50) == pytest.approx(50.5)
    assert summary(values, scale=2) == {
        "p50": 101.0,
        "p90": pytest.approx(180.2),
        "p99": pytest.approx(198.02),
        "max": 200,
    }


def test_edges() -> None:
    assert math.isnan(percentile([], 50))
    assert percentile([3.0], 99) == 3.0
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], 101)
