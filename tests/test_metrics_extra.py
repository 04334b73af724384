"""TE, Nabf, VIFp_A/B/sum, CC, SSIMs and MS_SSIM: Octave values of the reference MATLAB code
(tests/data/octave_extra_metrics), values worked out by hand on tiny images, and properties.
(Registry-wide properties - ranges, symmetry, ideal values, constant images - are in
test_metrics_properties.py; MS_SSIM's are here because it needs images of 176 px or more.)"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import fusionbench
from fusionbench.metrics import MetricInputs, get_metric
from fusionbench.metrics.artifacts import sobel_mirror
from fusionbench.metrics.information import tsallis
from fusionbench.metrics.reference_based import structural_similarity
from fusionbench.metrics.similarity import multiscale_ssim

from .shared_crops import golden_crops

DATA = Path(__file__).parent / "data"
Q = 1.85


def _rows() -> list[dict[str, str]]:
    with open(DATA / "octave_extra_metrics" / "values.csv", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("row", _rows(), ids=lambda r: f"{r['metric']}-{r['case_id']}")
def test_matches_octave_reference(row: dict[str, str], request: pytest.FixtureRequest) -> None:
    if row["inputs"] == "golden-crop":
        a, b, f = golden_crops(request.getfixturevalue("golden_dir"))[row["case_id"]]
    else:
        folder = {"octave_paper_metrics": DATA / "octave_paper_metrics"}.get(row["inputs"])
        if folder is None:
            folder = request.getfixturevalue("golden_dir") / "inputs"
        a, b, f = (np.asarray(Image.open(folder / f"{row['case_id']}-{tag}.png")) for tag in "ABF")
    value = fusionbench.evaluate(a, b, f, metrics=[row["metric"]])[row["metric"]]
    expected = float(row["value"])
    assert abs(value - expected) <= 1e-9 * max(1.0, abs(expected)), (row["call"], value, expected)


def _run(name: str, **images: np.ndarray) -> float:
    return MetricInputs(**{k: np.asarray(v, dtype=np.float64) for k, v in images.items()}).run(get_metric(name))


# --- TE ----------------------------------------------------------------------------------------


def test_tsallis_of_a_two_level_image_with_itself() -> None:
    # p = diag(1/2, 1/2) on levels 0 and 255: S = 2 (1/2)^q / (1/4)^(q-1) = 2^(q-1).
    x = np.array([[0.0, 0.0], [255.0, 255.0]])
    assert tsallis(x, x) == pytest.approx((1 - 2 ** (Q - 1)) / (1 - Q), rel=1e-14)
    assert _run("TE", a=x, b=x, fused=x) == pytest.approx(2 * (2 ** (Q - 1) - 1) / (Q - 1), rel=1e-14)


def test_tsallis_pairs_each_row_with_the_other_image_s_marginal() -> None:
    """tsallis.m divides p(i, j)^q by (m_c(i) m_r(j))^(q-1) with m_c = sum(h) (the second
    image's distribution), not by (p_x(i) p_y(j))^(q-1)."""
    x = np.array([[0.0, 0.0], [0.0, 255.0]])  # p_x(0) = 3/4, p_x(255) = 1/4
    y = np.array([[0.0, 255.0], [255.0, 255.0]])  # p_y(0) = 1/4, p_y(255) = 3/4
    # cells: (0, 0) 1/4, (0, 255) 1/2, (255, 255) 1/4; denominators p_y(i) p_x(j): 3/16, 1/16, 3/16
    s = 2 * (1 / 4) ** Q / (3 / 16) ** (Q - 1) + (1 / 2) ** Q / (1 / 16) ** (Q - 1)
    assert tsallis(x, y) == pytest.approx((1 - s) / (1 - Q), rel=1e-14)


def test_te_is_nan_for_a_constant_non_zero_image() -> None:
    x = np.array([[0.0, 255.0], [255.0, 0.0]])
    assert math.isnan(_run("TE", a=x, b=x, fused=np.full((2, 2), 7.0)))


# --- Nabf --------------------------------------------------------------------------------------


def test_sobel_mirror_extends_about_the_border_pixels() -> None:
    image = np.arange(20, dtype=np.float64).reshape(4, 5) ** 1.5
    padded = np.pad(image, 1, mode="reflect")
    kernel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]) / 8
    expected_gv = np.array([[np.sum(padded[i : i + 3, j : j + 3] * kernel) for j in range(5)] for i in range(4)])
    expected_gh = np.array([[np.sum(padded[i : i + 3, j : j + 3] * kernel.T) for j in range(5)] for i in range(4)])
    gv, gh = sobel_mirror(MetricInputs(a=image), "a")
    np.testing.assert_allclose(gv, expected_gv, rtol=1e-14, atol=1e-12)
    np.testing.assert_allclose(gh, expected_gh, rtol=1e-14, atol=1e-12)


def test_nabf_of_a_step_added_to_flat_sources() -> None:
    """A = B = 0, F a vertical step 0 -> 8: edges of strength (1 + 2 + 1) 8 / 8 = 4 only in the
    two columns beside the step (mirrored borders add none), where g_F > g_A = g_B = 0; there
    G = 0 and the orientations (0 for A, pi/2 for F) give A = 0, so Q = sqrt(Q_g(0) Q_a(0));
    every weight is 0.001, so N = (2 of 6 columns) (1 - Q)."""
    f = np.zeros((9, 6))
    f[:, 3:] = 8.0
    zero = np.zeros_like(f)
    q = math.sqrt(0.9999 / (1 + math.exp(19 * 0.5)) * 0.9995 / (1 + math.exp(22 * 0.5)))
    assert _run("Nabf", a=zero, b=zero, fused=f) == pytest.approx(2 / 6 * (1 - q), rel=1e-12)


def test_nabf_is_zero_without_stronger_fused_edges() -> None:
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (20, 23)).astype(np.float64)
    assert _run("Nabf", a=a, b=a, fused=a) == 0.0
    assert _run("Nabf", a=a, b=a, fused=a * 0.5) == 0.0  # weaker edges are loss, not artifacts


# --- VIFp --------------------------------------------------------------------------------------


def test_vifp_sum_is_the_sum_and_each_term_is_one_for_its_own_source() -> None:
    rng = np.random.default_rng(2)
    a, b = (rng.integers(0, 256, (64, 70)).astype(np.float64) for _ in range(2))
    x = MetricInputs(a=a, b=b, fused=a)
    assert x.run(get_metric("VIFp_A")) == pytest.approx(1.0, rel=1e-9)
    assert x.run(get_metric("VIFp_sum")) == x.run(get_metric("VIFp_A")) + x.run(get_metric("VIFp_B"))
    assert x.run(get_metric("VIFp_B")) < 0.5  # independent noise carries little of B


def test_vifp_needs_41_pixels_and_a_textured_source() -> None:
    rng = np.random.default_rng(3)
    small = rng.integers(0, 256, (40, 60)).astype(np.float64)
    assert math.isnan(_run("VIFp_A", a=small, fused=small))
    flat = np.full((64, 64), 9.0)
    assert math.isnan(_run("VIFp_A", a=flat, fused=rng.integers(0, 256, (64, 64)).astype(np.float64)))


# --- CC, SSIMs, MS_SSIM ------------------------------------------------------------------------


def test_cc_by_hand() -> None:
    a = np.array([[0.0, 1.0], [2.0, 3.0]])
    assert _run("CC", a=a, b=3 - a, fused=2 * a + 1) == pytest.approx(0.0, abs=1e-15)  # (1 + (-1)) / 2
    assert _run("CC", a=a, b=a, fused=2 * a + 1) == pytest.approx(1.0, rel=1e-15)
    assert math.isnan(_run("CC", a=a, b=a, fused=np.ones((2, 2))))


def test_ssims_is_the_mean_of_the_two_ssims() -> None:
    rng = np.random.default_rng(4)
    a, b, f = (rng.integers(0, 256, (30, 33)).astype(np.float64) for _ in range(3))
    expected = (structural_similarity(a, f) + structural_similarity(b, f)) / 2
    assert _run("SSIMs", a=a, b=b, fused=f) == pytest.approx(expected, rel=1e-15)


@pytest.fixture(scope="module")
def textured() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from scipy import ndimage

    rng = np.random.default_rng(5)
    base = ndimage.gaussian_filter(rng.random((181, 190)), 3) * 2000 % 256
    a = ndimage.gaussian_filter(base, 2)
    b = base.copy()
    b[:, :95] = a[:, :95]
    return np.round(a), np.round(b), np.round((a + b) / 2)


def test_ms_ssim_properties(textured: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    a, b, f = textured
    value = _run("MS_SSIM", a=a, b=b, fused=f)
    assert 0 < value < 1
    assert _run("MS_SSIM", a=b, b=a, fused=f) == pytest.approx(value, rel=1e-14)
    assert _run("MS_SSIM", a=a, b=a, fused=a) == pytest.approx(1.0, rel=1e-14)
    assert multiscale_ssim(a, f) == pytest.approx(multiscale_ssim(f, a), rel=1e-14)


def test_ms_ssim_needs_176_pixels(textured: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    a, b, f = (x[:176, :176] for x in textured)
    assert math.isfinite(_run("MS_SSIM", a=a, b=b, fused=f))
    assert math.isnan(_run("MS_SSIM", a=a[:175], b=b[:175], fused=f[:175]))
