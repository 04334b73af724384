"""MI, NCIE, FMI, PSNR and SSIM: values worked out by hand on tiny images, the MATLAB
reference code on extra cases (tests/data/octave_mfif_metrics, made with GNU Octave), a
literal transcription of fmi.m's window loop, and scikit-image's SSIM."""

from __future__ import annotations

import cmath
import csv
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import fusionbench.metrics as fm
from fusionbench.metrics import MetricInputs
from fusionbench.metrics.feature_mi import edge_sobel, feature_mutual_information
from fusionbench.metrics.information import normalize_to_256_levels
from fusionbench.metrics.reference_based import structural_similarity

OCTAVE_DIR = Path(__file__).parent / "data" / "octave_mfif_metrics"
with open(OCTAVE_DIR / "values.csv", newline="") as fh:
    OCTAVE_ROWS = list(csv.DictReader(fh))


def _u8(rows: list[list[int]]) -> np.ndarray:
    return np.array(rows, dtype=np.uint8)


# ------------------------------------------------------------ Octave (MATLAB reference code)


@pytest.mark.parametrize("row", OCTAVE_ROWS, ids=[f"{r['metric']}-{r['case_id']}" for r in OCTAVE_ROWS])
def test_matches_reference_code_on_extra_cases(row: dict[str, str]) -> None:
    images = {
        role: np.asarray(Image.open(OCTAVE_DIR / f"{row['case_id']}-{suffix}.png"))
        for role, suffix in (("a", "A"), ("b", "B"), ("fused", "F"), ("gt", "GT"))
    }
    value = MetricInputs.from_images(**images).run(fm.get_metric(row["metric"]))
    expected = float(row["value"])
    assert abs(value - expected) <= 1e-9 * max(1.0, abs(expected)), f"{row['call']}: {value!r} vs {expected!r}"


# ------------------------------------------------------------------------------------- MI


def test_normalize1_stretches_and_rounds_half_away() -> None:
    # (x - 0) / 2 * 255 = 127.5 rounds to 128 (MATLAB round), not 128 by luck of even rounding.
    assert normalize_to_256_levels(np.array([0.0, 1.0, 2.0])).tolist() == [0.0, 128.0, 255.0]
    assert normalize_to_256_levels(np.array([10.0, 14.0])).tolist() == [0.0, 255.0]
    assert normalize_to_256_levels(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]
    assert normalize_to_256_levels(np.full(3, 7.0)) is None


def test_mi_hand_values() -> None:
    a = _u8([[0, 255], [0, 255]])
    # F = A and F = 255 - B: each source determines F, I = H = 1 bit, 2 (1/2 + 1/2) = 2.
    assert fm.mi(a, 255 - a, a) == pytest.approx(2.0, abs=1e-15)
    # F independent of both sources: I = 0.
    f = _u8([[0, 0], [255, 255]])
    assert fm.mi(a, a, f) == pytest.approx(0.0, abs=1e-15)
    # One source determines F, the other is independent of it: 2 (1/2 + 0) = 1.
    assert fm.mi(a, f, a) == pytest.approx(1.0, abs=1e-15)


def test_mi_is_invariant_to_each_images_contrast_stretch() -> None:
    rng = np.random.default_rng(1)
    a, b, f = (rng.integers(0, 256, size=(15, 17)).astype(np.uint8) for _ in range(3))
    a[0, 0], a[0, 1] = 0, 255  # full range, so the affine map below keeps all levels apart
    squeezed = (a.astype(np.float64) * 0.5 + 40) / 255  # float [0, 1] input, range 40..167.5
    assert fm.mi(squeezed, b, f) == pytest.approx(fm.mi(a, b, f), abs=1e-12)
    assert fm.ncie(squeezed, b, f) == pytest.approx(fm.ncie(a, b, f), abs=1e-12)


def test_mi_ncie_constant_nonzero_image_is_nan() -> None:
    a = _u8([[0, 255], [0, 255]])
    flat = np.full((2, 2), 9, dtype=np.uint8)
    assert math.isnan(fm.mi(a, a, flat))
    assert math.isnan(fm.ncie(a, a, flat))
    # An all-zero fused image is kept by normalize1: it carries no information about A.
    assert fm.mi(a, a, np.zeros((2, 2), np.uint8)) == pytest.approx(0.0, abs=1e-15)


# ----------------------------------------------------------------------------------- NCIE


def _ncie_from_eigenvalues(eigenvalues: list[float]) -> float:
    return 1.0 + sum(r / 3 * math.log(r / 3, 256) for r in eigenvalues)


def test_ncie_hand_values() -> None:
    a = _u8([[0, 255], [0, 255]])
    # Three identical 1-bit images: every NCC = (1 + 1 - 1) / 8 = 1/8; eigenvalues of
    # [[1, c, c], [c, 1, c], [c, c, 1]] are 1 + 2c, 1 - c, 1 - c.
    assert fm.ncie(a, a, a) == pytest.approx(_ncie_from_eigenvalues([1.25, 0.875, 0.875]), abs=1e-14)
    # Pairwise independent (F = A xor B): R = I, the lower end 1 - log_256(3).
    b = _u8([[0, 0], [255, 255]])
    f = _u8([[0, 255], [255, 0]])
    assert fm.ncie(a, b, f) == pytest.approx(1 - math.log(3, 256), abs=1e-14)


# ------------------------------------------------------------------------------------ FMI


def test_edge_sobel_thins_a_step_to_one_column() -> None:
    # Step between columns 5 and 6: b is equal in both columns; thinning keeps the column
    # whose right neighbour is smaller (b(r,c-1) <= b(r,c) > b(r,c+1)), i.e. column 6.
    image = np.zeros((5, 12))
    image[:, 6:] = 255
    edges = edge_sobel(image)
    expected = np.zeros((5, 12), dtype=bool)
    expected[:, 6] = True
    np.testing.assert_array_equal(edges, expected)


def test_edge_sobel_threshold_is_four_times_mean_magnitude() -> None:
    # The same step in a 5 x 6 image: 2 of 6 columns respond, cutoff = 4 * 2/6 * b > b.
    image = np.zeros((5, 6))
    image[:, 3:] = 255
    assert not edge_sobel(image).any()


def _column_major(window: np.ndarray) -> np.ndarray:
    return window.astype(np.float64).ravel(order="F")


def _fmi_window_reference(sub_a: np.ndarray, sub_f: np.ndarray) -> tuple[float, np.ndarray]:
    """fmi.m's per-window code for one source, transcribed loop for loop (1-based loops
    shifted to 0-based). Returns the value and fSub as fmi.m leaves it (normalised).

    Sums are Python's left-to-right ``sum``, like Octave's ``sum``: the order matters for a
    uniform PDF, whose nine 1/9 add up to 1 + 2^-52, so mean(pdf) leaves residues of
    -2.8e-17 and the correlation of two uniform PDFs is 1, not 0."""
    if np.array_equal(sub_a, sub_f):
        return 1.0, sub_f
    def normalise(sub: np.ndarray) -> np.ndarray:
        hi, lo = sub.max(), sub.min()
        return np.ones((3, 3)) if hi == lo else (sub - lo) / (hi - lo)
    sub_a, sub_f = normalise(sub_a), normalise(sub_f)
    a_pdf = _column_major(sub_a) / sub_a.sum()
    f_pdf = _column_major(sub_f) / sub_f.sum()
    n = 9
    a_cdf, f_cdf = np.zeros(n), np.zeros(n)
    a_cdf[0], f_cdf[0] = a_pdf[0], f_pdf[0]
    for i in range(1, n):
        a_cdf[i] = a_pdf[i] + a_cdf[i - 1]
        f_cdf[i] = f_pdf[i] + f_cdf[i - 1]
    a_tmp, f_tmp = a_pdf - sum(a_pdf) / n, f_pdf - sum(f_pdf) / n
    cross = sum(a_tmp * f_tmp)
    c = 0.0 if cross == 0 else cross / math.sqrt(sum(a_tmp * a_tmp) * sum(f_tmp * f_tmp))
    e_a = e2_a = e_f = e2_f = 0.0
    for i in range(n):
        e_a += (i + 1) * a_pdf[i]
        e2_a += (i + 1) ** 2 * a_pdf[i]
        e_f += (i + 1) * f_pdf[i]
        e2_f += (i + 1) ** 2 * f_pdf[i]
    a_sd, f_sd = math.sqrt(e2_a - e_a**2), math.sqrt(e2_f - e_f**2)

    if c >= 0:
        def bound(i: int, j: int) -> float:
            return 0.5 * (f_cdf[i] + a_cdf[j] - abs(f_cdf[i] - a_cdf[j]))
        if c == 0 or a_sd == 0 or f_sd == 0:
            w = 0.0
        else:
            cov = sum(bound(i, j) - f_cdf[i] * a_cdf[j] for i in range(n) for j in range(n))
            w = c / (cov / (f_sd * a_sd))
    else:
        def bound(i: int, j: int) -> float:
            return 0.5 * (f_cdf[i] + a_cdf[j] - 1 + abs(f_cdf[i] + a_cdf[j] - 1))
        if a_sd == 0 or f_sd == 0:
            w = 0.0
        else:
            cov = sum(bound(i, j) - f_cdf[i] * a_cdf[j] for i in range(n) for j in range(n))
            w = c / (cov / (f_sd * a_sd))

    def cell(i: int, j: int) -> float:
        mass = bound(i, j)
        if i > 0:
            mass -= bound(i - 1, j)
        if j > 0:
            mass -= bound(i, j - 1)
        if i > 0 and j > 0:
            mass += bound(i - 1, j - 1)
        return w * mass + (1 - w) * f_pdf[i] * a_pdf[j]

    joint = 0.0
    for i in range(n):
        for j in range(n):
            jpdf = cell(i, j)
            if jpdf != 0:
                joint += (-jpdf * cmath.log(jpdf) / math.log(2)).real  # MATLAB's complex log2
    h_a = sum(-p * math.log2(p) for p in a_pdf if p != 0)
    h_f = sum(-p * math.log2(p) for p in f_pdf if p != 0)
    mi = h_a + h_f - joint
    return (0.0 if mi == 0 else 2 * mi / (h_a + h_f)), sub_f


def _fmi_reference(fa: np.ndarray, fb: np.ndarray, ff: np.ndarray) -> float:
    rows, cols = fa.shape
    values = []
    for p in range(1, rows - 1):
        for q in range(1, cols - 1):
            win = (slice(p - 1, p + 2), slice(q - 1, q + 2))
            sub_f = ff[win].astype(np.float64)
            v_af, sub_f = _fmi_window_reference(fa[win].astype(np.float64), sub_f)
            v_bf, _ = _fmi_window_reference(fb[win].astype(np.float64), sub_f)
            values.append((v_af + v_bf) / 2)
    return float(np.mean(values))


@pytest.mark.parametrize("seed", range(4))
def test_fmi_window_table_equals_fmi_m_loop(seed: int) -> None:
    """The pattern-pair evaluation equals fmi.m's window loop on random binary feature maps
    (sparse and dense, with empty fused windows where a source has edges)."""
    rng = np.random.default_rng(seed)
    shape = (7 + seed, 9 - seed % 2)
    density = [0.08, 0.2, 0.4, 0.6][seed]
    fa, fb = (rng.random(shape) < density for _ in range(2))
    ff = rng.random(shape) < density
    ff[: shape[0] // 2, :] = False  # empty fused windows, where fmi.m reuses a modified fSub
    expected = _fmi_reference(fa, fb, ff)
    assert feature_mutual_information(fa, fb, ff) == pytest.approx(expected, abs=1e-12)


def test_fmi_identical_and_constant_images_score_one() -> None:
    image = np.asarray(Image.open(OCTAVE_DIR / "camera40x33-A.png"))
    assert fm.fmi(image, image, image) == 1.0
    flat = np.full((9, 8), 77, dtype=np.uint8)
    assert fm.fmi(flat, flat, flat) == 1.0


def test_fmi_needs_a_full_window() -> None:
    tiny = np.zeros((2, 5), dtype=np.uint8)
    assert math.isnan(fm.fmi(tiny, tiny, tiny))


# ------------------------------------------------------------------------------ PSNR, SSIM


def test_psnr_hand_values() -> None:
    gt = np.zeros((4, 4), dtype=np.uint8)
    fused = gt.copy()
    fused[1, 2] = 255
    # MSE = 255^2 / 16, PSNR = 10 log10(16).
    assert fm.psnr(fused, gt) == pytest.approx(10 * math.log10(16), abs=1e-12)
    assert fm.psnr(gt, gt) == math.inf
    # Float [0, 1] input is on the same 255-peak scale.
    assert fm.psnr(fused / 255.0, gt / 255.0) == pytest.approx(10 * math.log10(16), abs=1e-12)


def test_ssim_of_constant_images_is_the_luminance_term() -> None:
    # Zero variances: SSIM = (2 c1 c2 + C1) / (c1^2 + c2^2 + C1), C1 = (0.01 * 255)^2.
    c1, c2, C1 = 100.0, 50.0, (0.01 * 255) ** 2
    fused = np.full((12, 13), 100, dtype=np.uint8)
    gt = np.full((12, 13), 50, dtype=np.uint8)
    assert fm.ssim(fused, gt) == pytest.approx((2 * c1 * c2 + C1) / (c1**2 + c2**2 + C1), rel=1e-12)
    assert fm.ssim(fused, fused) == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize("shape", [(11, 11), (24, 31), (40, 17)])
def test_ssim_equals_scikit_image_gaussian_ssim(shape: tuple[int, int]) -> None:
    """scikit-image with the Wang et al. settings crops the same 5-pixel border that
    ssim_index.m's 'valid' filtering leaves out."""
    from skimage.metrics import structural_similarity as sk_ssim

    rng = np.random.default_rng(sum(shape))
    gt = rng.integers(0, 256, size=shape).astype(np.float64)
    fused = np.clip(gt + rng.normal(0, 30, size=shape), 0, 255)
    expected = sk_ssim(fused, gt, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
    assert structural_similarity(fused, gt) == pytest.approx(expected, abs=1e-12)
    assert structural_similarity(gt, fused) == pytest.approx(expected, abs=1e-12)


def test_ssim_needs_an_11x11_window() -> None:
    small = np.zeros((10, 30), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"SSIM.*11x11"):
        fm.ssim(small, small)
