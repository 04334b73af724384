"""Every metric with a reference value must reproduce the original MATLAB reference code.

* The compact set shipped in tests/data/octave_reference_set (always run): the 20 golden metrics,
  TE and Nabf on small ordinary and degenerate triples, |ours - ref| <= 1e-9 * max(1, |ref|).
* The golden set of ../shared/golden (FUSIONBENCH_GOLDEN, 520 x 520 and larger cases):
  |ours - ref| <= 1e-6 * max(1, |ref|)."""

from __future__ import annotations

import csv
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

import fusionbench
from fusionbench.metrics import MetricInputs, get_metric

from .conftest import GOLDEN_DIR, golden_rows, read_gray_u8

ROWS = golden_rows()
COMPACT = Path(__file__).parent / "data" / "octave_reference_set"
with open(COMPACT / "values.csv", newline="") as fh:
    COMPACT_ROWS = list(csv.DictReader(fh))
# The golden set's 20 metrics (FUSIONBENCH_GOLDEN/README.md), which the compact set must cover.
GOLDEN_METRICS = (
    "AVG", "STD", "SEN", "SF", "EI", "VIFF", "Qabf", "Qc", "Qcv", "Qcvejic",
    "MI", "NCIE", "FMI", "SCD", "Qp", "Qw", "Qs", "Qe", "Qy", "Qm",
)  # fmt: skip
# Reference values that are rounding noise of the library underneath; fusionbench gives NaN
# (tests/data/octave_reference_set/README.md says why).
KNOWN_DEVIATIONS = {
    ("allconst_48x44", "Qm"): "Haar bands of a constant image are FMA-BLAS residues (NaN without FMA / with the MEX)",
    ("constA_48x44", "Qp"): "phase congruency of FFTW's rounding noise on a constant image",
}


def _assert_matches(value: float, expected: float, tolerance: float, what: str) -> None:
    if math.isnan(expected):
        assert math.isnan(value), f"{what}: reference is NaN, got {value}"
        return
    assert abs(value - expected) <= tolerance * max(1.0, abs(expected)), f"{what}: ours {value!r}, MATLAB {expected!r}"


@lru_cache(maxsize=None)
def _compact_inputs(case_id: str) -> MetricInputs:
    return MetricInputs.from_images(**{role: read_gray_u8(COMPACT / f"{case_id}-{tag}.png") for role, tag in
                                       (("a", "A"), ("b", "B"), ("fused", "F"))})


@pytest.mark.parametrize("row", COMPACT_ROWS, ids=[f"{r['metric']}-{r['case_id']}" for r in COMPACT_ROWS])
def test_metric_matches_matlab_reference_on_the_compact_set(row: dict[str, str]) -> None:
    metric = get_metric(row["metric"])
    inputs = _compact_inputs(row["case_id"])
    what = f"{row['call']} on {row['case_id']}"
    if (row["case_id"], row["metric"]) in KNOWN_DEVIATIONS:
        assert math.isnan(inputs.run(metric)), what
        return
    if row["value"] != "error":
        _assert_matches(inputs.run(metric), float(row["value"]), 1e-9, what)
    elif "'mssim' undefined" in row["call"]:
        # The image is smaller than the SSIM window: a clear error instead of the reference's.
        with pytest.raises(ValueError, match="needs at least"):
            inputs.run(metric)
    else:
        assert math.isnan(inputs.run(metric)), f"{what}: the reference stops with an error, expected NaN"


def test_compact_set_covers_every_golden_metric_and_degenerate_case() -> None:
    by_metric: dict[str, set[str]] = {}
    for row in COMPACT_ROWS:
        if row["value"] not in ("error", "NaN"):
            by_metric.setdefault(row["metric"], set()).add(row["case_id"])
    for name in GOLDEN_METRICS:
        assert len(by_metric.get(name, ())) >= 2, f"{name}: fewer than two finite reference values"
    cases = {row["case_id"] for row in COMPACT_ROWS}
    for case in ("fusedA", "fusedB", "constF0", "constF255", "constA", "zeroB", "allconst", "saturated",
                 "tiny_8x8", "row_1x64", "col_64x1"):
        assert any(c.startswith(case) for c in cases), case
    if ROWS:
        assert {r["metric"] for r in ROWS} == set(GOLDEN_METRICS)


def test_compact_set_images_are_what_make_cases_writes() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("octave_reference_set_make_cases", COMPACT / "make_cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.cases()
    assert set(written) == {row["case_id"] for row in COMPACT_ROWS}
    for case_id, triple in written.items():
        for tag, image in zip("ABF", triple):
            np.testing.assert_array_equal(read_gray_u8(COMPACT / f"{case_id}-{tag}.png"), image)


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
    inputs = _inputs(row["case_id"], row["a"], row["b"], row["fused"])
    _assert_matches(inputs.run(get_metric(row["metric"])), float(row["value"]), 1e-6, f"{row['call']} on {row['case_id']}")


def test_every_golden_metric_is_registered() -> None:
    missing = sorted(set(GOLDEN_METRICS) - set(fusionbench.list_metrics()))
    assert not missing, f"golden metrics without an implementation: {missing}"
