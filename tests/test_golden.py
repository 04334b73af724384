"""Every metric with a golden value must reproduce the original MATLAB reference code:
|ours - ref| <= 1e-6 * max(1, |ref|) on every case of ../shared/golden (FUSIONBENCH_GOLDEN)."""

from __future__ import annotations

import math
from functools import lru_cache

import pytest

import fusionbench
from fusionbench.metrics import MetricInputs, get_metric

from .conftest import GOLDEN_DIR, golden_rows, read_gray_u8

ROWS = golden_rows()


@lru_cache(maxsize=None)
def _inputs(case_id: str, a: str, b: str, fused: str) -> MetricInputs:
    return MetricInputs.from_images(
        a=read_gray_u8(GOLDEN_DIR / a), b=read_gray_u8(GOLDEN_DIR / b), fused=read_gray_u8(GOLDEN_DIR / fused)
    )


@pytest.mark.needs_golden
@pytest.mark.parametrize(
    "row",
    ROWS or [pytest.param(None, marks=pytest.mark.skip(reason="FUSIONBENCH_GOLDEN is not set"))],
    ids=[f"{r['metric']}-{r['case_id']}" for r in ROWS] or ["no-golden"],
)
def test_metric_matches_matlab_reference(row: dict[str, str]) -> None:
    metric = get_metric(row["metric"])
    expected = float(row["value"])
    inputs = _inputs(row["case_id"], row["a"], row["b"], row["fused"])
    value = inputs.run(metric)
    if math.isnan(expected):
        assert math.isnan(value), f"{row['call']}: reference is NaN, got {value}"
        return
    assert abs(value - expected) <= 1e-6 * max(1.0, abs(expected)), (
        f"{row['call']} on {row['case_id']}: ours {value!r}, MATLAB {expected!r}"
    )


def test_every_golden_metric_is_registered() -> None:
    if not ROWS:
        pytest.skip("FUSIONBENCH_GOLDEN is not set")
    missing = sorted({r["metric"] for r in ROWS} - set(fusionbench.list_metrics()))
    assert not missing, f"golden metrics without an implementation: {missing}"
