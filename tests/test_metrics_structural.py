"""Qcv, Qcvejic, Qy, Qw, Qs, Qe and Qp beyond the golden cases: extra Octave reference values
(odd and tiny sizes, flat regions, non-integer pixels, constant images), the MATLAB/Octave
primitives they rest on, and properties the registry-wide tests do not cover."""

from __future__ import annotations

import csv
import math
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import fusionbench
from fusionbench.metrics import MetricInputs, get_metric, qcv, qp, qs, qw
from fusionbench.metrics._matlab import (
    blocks,
    filter2,
    filter2_valid_flat,
    fma,
    fspecial_gaussian,
    sum_sequential,
    sum_sum,
)
from fusionbench.metrics.phase_congruency import phase_congruency
from fusionbench.metrics.structural import prewitt_magnitude

DATA = Path(__file__).parent / "data" / "octave_structural_metrics"
METRICS = ("Qcv", "Qcvejic", "Qy", "Qw", "Qs", "Qe", "Qp")


def _case_inputs(case_id: str) -> MetricInputs:
    base = case_id.removesuffix("_float")
    a, b, f = (np.asarray(Image.open(DATA / f"{base}-{tag}.png"), dtype=np.float64) for tag in "ABF")
    if case_id != base:  # same arithmetic as run_reference.m
        a = a * 0.73 + 11.3
        b = b * 0.9 + 5.1
        f = 0.5 * (a + b) + 0.25 * (a - b)
    return MetricInputs(a=a, b=b, fused=f)


with open(DATA / "values.csv", newline="") as fh:
    OCTAVE_ROWS = list(csv.DictReader(fh))


@pytest.mark.parametrize("row", OCTAVE_ROWS, ids=[f"{r['metric']}-{r['case_id']}" for r in OCTAVE_ROWS])
def test_matches_octave_reference_on_extra_cases(row: dict[str, str]) -> None:
    value = _case_inputs(row["case_id"]).run(get_metric(row["metric"]))
    expected = float(row["value"])
    if math.isnan(expected):
        assert math.isnan(value), f"{row['call']}: reference is NaN, got {value}"
    else:
        assert abs(value - expected) <= 1e-6 * max(1.0, abs(expected)), (
            f"{row['call']} on {row['case_id']}: ours {value!r}, Octave {expected!r}"
        )


def test_extra_cases_cover_every_metric() -> None:
    assert {r["metric"] for r in OCTAVE_ROWS} == set(METRICS)


# --- primitives -----------------------------------------------------------------------------


def _exact_fma(a: float, b: float, c: float) -> float:
    return float(Fraction(a) * Fraction(b) + Fraction(c))  # int / int division rounds correctly


def test_fma_rounds_once() -> None:
    rng = np.random.default_rng(1)
    a = rng.random(300) * 10.0 ** rng.integers(-6, 6, 300)
    b = rng.standard_normal(300) * 10.0 ** rng.integers(-4, 6, 300)
    c = rng.standard_normal(300) * 10.0 ** rng.integers(-12, 8, 300)
    c[:100] = -(a[:100] * b[:100])  # the result is the product's rounding error
    expected = np.array([_exact_fma(x, y, z) for x, y, z in zip(a, b, c)])
    np.testing.assert_array_equal(fma(a, b, c), expected)
    # a * b = 2^-53 (1 + 2^-78) rounds to 2^-53, and 1 + 2^-53 is a tie that rounds to 1; the
    # exact sum is just above the tie, so a single rounding gives 1 + 2^-52.
    a, b = 1.0 + 2.0**-26, 2.0**-53 * (1.0 - 2.0**-26 + 2.0**-52)
    assert a * b + 1.0 == 1.0
    assert fma(a, b, 1.0) == 1.0 + 2.0**-52


def test_filter2_valid_flat_accumulates_in_octave_order_with_fma() -> None:
    window = fspecial_gaussian(7, 1.5)
    values = np.array([255.0, 200.0 * 200.0, 37.0 * 255.0, 13.73, 0.0, 255.0])
    expected = []
    for value in values:
        total = 0.0
        for weight in window.ravel(order="F")[::-1]:  # rot90(window, 2), column by column
            total = _exact_fma(weight, value, total)
        expected.append(total)
    np.testing.assert_array_equal(filter2_valid_flat(window, values), expected)
    # The residue E[x^2] - E[x]^2 of a flat window is what makes Qy sensitive: not 0 here.
    mean, second = filter2_valid_flat(window, np.array([255.0, 255.0 * 255.0]))
    assert second - mean * mean != 0


def test_fspecial_gaussian_is_bit_exact_to_octave() -> None:
    # Octave 7.3 / image 2.14: printf('%.17g', fspecial('gaussian', 7, 1.5)(k)) for k = 1, 25.
    window = fspecial_gaussian(7, 1.5)
    assert window[0, 0] == 0.0013419653598432805
    assert window[3, 3] == 0.073268826056005834
    assert sum_sum(window) == pytest.approx(1.0, abs=1e-15)


def test_octave_sums_are_sequential() -> None:
    # Octave: sum([1 1e16 -1e16 1 1 1e16 -1e16 1]) = 3; pairwise summation gives 4.
    values = np.array([1.0, 1e16, -1e16, 1.0, 1.0, 1e16, -1e16, 1.0])
    assert sum_sequential(values) == 3.0
    matrix = np.array([[1.0, 1e16], [1e16, 1.0], [-1e16, -1e16]])
    assert sum_sum(matrix) == ((1.0 + 1e16) - 1e16) + ((1e16 + 1.0) - 1e16)


def test_blocks_pad_with_zeros_like_blkproc() -> None:
    image = np.arange(20 * 35, dtype=np.float64).reshape(20, 35) + 1
    tiles = blocks(image, 16)
    assert tiles.shape == (2, 16, 3, 16)
    np.testing.assert_array_equal(tiles[0, :, 0, :], image[:16, :16])
    assert tiles[1, 4:, :, :].sum() == 0 and tiles[:, :, 2, 3:].sum() == 0
    assert tiles.sum() == image.sum()


def test_prewitt_magnitude_matches_filter2_same() -> None:
    image = np.random.default_rng(2).integers(0, 256, (9, 12)).astype(np.float64)
    gx = filter2(np.array([[1.0, 0, -1], [1, 0, -1], [1, 0, -1]]), image, "same")
    gy = filter2(np.array([[1.0, 1, 1], [0, 0, 0], [-1, -1, -1]]), image, "same")
    np.testing.assert_array_equal(prewitt_magnitude(image), np.sqrt(gx * gx + gy * gy))


# --- properties -----------------------------------------------------------------------------


def _scene(shape: tuple[int, int], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    scene = ndimage.gaussian_filter(rng.random(shape), 2) * 255
    scene = np.clip((scene - scene.min()) / np.ptp(scene) * 300 - 20, 0, 255)
    blurred = ndimage.gaussian_filter(scene, 2)
    left = np.arange(shape[1]) < shape[1] // 2
    a = np.where(left, scene, blurred).round().astype(np.uint8)
    b = np.where(left, blurred, scene).round().astype(np.uint8)
    return a, b, scene.round().astype(np.uint8)


def test_evaluate_shares_intermediates_without_changing_values() -> None:
    a, b, f = _scene((48, 53), 3)
    together = fusionbench.evaluate(a, b, f, metrics=list(METRICS))
    for name in METRICS:
        alone = get_metric(name)(a, b, f)
        assert together[name] == alone or (math.isnan(alone) and math.isnan(together[name])), name


def test_piella_weighted_and_plain_agree_when_saliency_is_uniform() -> None:
    # With a == b every window has lambda = 1/2 and the same weight structure only when the
    # local variances are equal everywhere: a periodic texture with an 8-periodic pattern.
    tile = np.random.default_rng(5).integers(0, 256, (8, 8))
    a = np.tile(tile, (5, 6)).astype(np.uint8)
    f = np.roll(a, 1, axis=1)
    assert qw(a, a, f) == pytest.approx(qs(a, a, f), rel=1e-12)


@pytest.mark.filterwarnings("error")
def test_constant_fused_image_gives_nan_for_qcv_and_qp() -> None:
    a, b, _ = _scene((40, 36), 6)
    fused = np.full(a.shape, 128, dtype=np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(qcv(a, b, fused))
        assert math.isnan(qp(a, b, fused))


@pytest.mark.filterwarnings("error")
def test_phase_congruency_of_a_constant_image() -> None:
    # Exactly zero response for every size (the FFT's rounding noise is not taken as signal).
    for shape in ((20, 21), (33, 40)):
        pc, moment_max, moment_min = phase_congruency(np.full(shape, 77.0))
        assert np.all(pc == 0) and np.all(np.isnan(moment_max)) and np.all(np.isnan(moment_min))


def test_phase_congruency_maps() -> None:
    a, _, _ = _scene((37, 50), 7)
    pc, moment_max, moment_min = phase_congruency(a)
    assert pc.shape == a.shape
    assert np.all((pc >= 0) & (pc < 1))
    assert np.all(moment_max >= moment_min)
    # Circular convolution: a cyclic shift of the image shifts the maps.
    shifted = phase_congruency(np.roll(a, (5, -7), axis=(0, 1)))[0]
    np.testing.assert_allclose(shifted, np.roll(pc, (5, -7), axis=(0, 1)), atol=1e-12)


@pytest.mark.parametrize(("name", "minimum"), [("Qy", 11), ("Qcvejic", 11), ("Qw", 8), ("Qs", 8), ("Qe", 8)])
def test_too_small_images_are_refused(name: str, minimum: int) -> None:
    image = np.zeros((minimum - 1, 30), dtype=np.uint8)
    with pytest.raises(ValueError, match=f"{name}: images are {minimum - 1}x30"):
        get_metric(name)(image, image, image)
    size_ok = np.random.default_rng(8).integers(0, 256, (minimum, minimum)).astype(np.uint8)
    assert math.isfinite(get_metric(name)(size_ok, size_ok[::-1], size_ok.T))


def test_order_statistics_equal_a_full_partition() -> None:
    from fusionbench.metrics.phase_congruency import _order_statistics

    rng = np.random.default_rng(9)
    for values in (rng.random(100_001), rng.integers(0, 3, 50_000).astype(float), np.sort(rng.random(9_999)),
                   np.zeros(4_000), rng.random(7)):
        n = values.size
        ranks = [n // 2 - 1, n // 2] if n % 2 == 0 else [n // 2]
        np.testing.assert_array_equal(_order_statistics(values, ranks), np.partition(values, ranks)[ranks])
