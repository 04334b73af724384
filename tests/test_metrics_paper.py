"""VIFF, Qabf, Qc, Qm and SCD beyond the golden cases: extra MATLAB/Octave reference values
(odd sizes, non-integer pixels, a constant fused image), the MATLAB primitives they rest on,
and properties (identical inputs, symmetry, ranges, constant images)."""

from __future__ import annotations

import csv
import importlib.util
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import fusionbench
from fusionbench.metrics import MetricInputs, get_metric, qabf, qc, qm, scd, viff
from fusionbench.metrics._matlab import filter2, freqspace, fspecial_gaussian, matlab_round
from fusionbench.metrics._shared import correlate_separable, sobel_filter2
from fusionbench.metrics.chen_blum import csf_response
from fusionbench.metrics.wavelet import haar_pyramid

DATA = Path(__file__).parent / "data" / "octave_paper_metrics"
PAPER_METRICS = ("VIFF", "Qabf", "Qc", "Qm", "SCD")


def _load_make_cases():
    """The data folder's make_cases.py, whose float_case built the non-integer case."""
    spec = importlib.util.spec_from_file_location("octave_paper_metrics_make_cases", DATA / "make_cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_float_case = _load_make_cases().float_case


def _read(name: str) -> np.ndarray:
    return np.asarray(Image.open(DATA / f"{name}.png"), dtype=np.float64)


def _case_inputs(case_id: str) -> MetricInputs:
    if case_id == "coins_75x101_float":
        a, b, f = _float_case(_read("coins_75x101-sharp"), _read("coins_75x101-blurred"))
    else:
        a, b, f = (_read(f"{case_id}-{tag}") for tag in "ABF")
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
        assert abs(value - expected) <= 1e-9 * max(1.0, abs(expected)), (row["call"], value, expected)


# --- MATLAB primitives -------------------------------------------------------------------------


def test_matlab_round_is_half_away_from_zero_for_every_double() -> None:
    x = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 0.49999999999999994, -0.49999999999999994, 3.2, -3.7])
    np.testing.assert_array_equal(matlab_round(x), [1, 2, 3, -1, -3, 0, -0, 3, -4])


def test_freqspace_even_and_odd_sizes() -> None:
    f_cols, f_rows = freqspace((4, 5))
    np.testing.assert_allclose(f_rows, [-1.0, -0.5, 0.0, 0.5], atol=0)
    np.testing.assert_allclose(f_cols, [-0.8, -0.4, 0.0, 0.4, 0.8], atol=1e-16)


@pytest.mark.parametrize("shape", [(6, 8), (7, 9), (6, 9), (7, 8)])
def test_csf_response_is_the_ifftshifted_centred_grid(shape: tuple[int, int]) -> None:
    rows, cols = shape
    f_cols, f_rows = freqspace(shape)
    u, v = np.meshgrid(f_cols * (cols / 30.0), f_rows * (rows / 30.0))
    r = np.sqrt(u**2 + v**2)
    centred = np.exp(-((r / 15.3870) ** 2)) - 0.7622 * np.exp(-((r / 1.3456) ** 2))
    full = np.fft.ifftshift(centred)
    np.testing.assert_array_equal(csf_response(shape), full[:, : cols // 2 + 1])
    # Symmetric under k -> -k, so filtering a real image keeps it real (rfft2 / irfft2 exact).
    np.testing.assert_array_equal(full, np.roll(full[::-1, ::-1], (1, 1), axis=(0, 1)))


@pytest.mark.parametrize("shape", [(40, 33), (31, 60)])
@pytest.mark.parametrize("size", [3, 9, 17, 31])
@pytest.mark.parametrize("step", [1, 2])
def test_correlate_separable_equals_filter2_valid(shape: tuple[int, int], size: int, step: int) -> None:
    rng = np.random.default_rng(size * 10 + step)
    images = rng.integers(0, 256, size=(2, *shape)).astype(np.float64)
    column, row = fspecial_gaussian((size, 1), size / 5)[:, 0], rng.random(size)
    kernel = np.outer(column, row)
    got = correlate_separable(images, column, row, step=step)
    for image, result in zip(images, got):
        expected = filter2(kernel, image, "valid")[::step, ::step]
        assert result.shape == expected.shape
        np.testing.assert_allclose(result, expected, rtol=1e-13, atol=1e-10)


def test_correlate_separable_kernel_larger_than_image_is_empty() -> None:
    assert correlate_separable(np.ones((5, 8)), np.ones(7), np.ones(3)).shape == (0, 6)


def test_sobel_filter2_equals_filter2_same() -> None:
    image = np.random.default_rng(3).integers(0, 256, size=(13, 18)).astype(np.float64)
    horizontal, vertical = sobel_filter2(MetricInputs(a=image), "a")
    flt1 = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(horizontal, filter2(flt1, image, "same"))
    np.testing.assert_array_equal(vertical, filter2(flt1.T, image, "same"))


def test_haar_pyramid_by_hand_on_a_4x5_image() -> None:
    image = np.arange(20, dtype=np.float64).reshape(4, 5) ** 2
    (h1, v1, d1), (h2, v2, d2) = haar_pyramid(image, 2)
    assert h1.shape == (2, 2) and h2.shape == (1, 1)  # odd last column dropped
    x = image[:4, :4]
    tl, tr, bl, br = x[0::2, 0::2], x[0::2, 1::2], x[1::2, 0::2], x[1::2, 1::2]
    np.testing.assert_allclose(h1, (bl + br - tl - tr) / 2, rtol=0, atol=1e-12)  # lohi: rows high, cols low
    np.testing.assert_allclose(v1, (tr + br - tl - bl) / 2, rtol=0, atol=1e-12)  # hilo: rows low, cols high
    np.testing.assert_allclose(d1, (tl + br - tr - bl) / 2, rtol=0, atol=1e-12)
    low = (tl + tr + bl + br) / 2
    np.testing.assert_allclose(h2[0, 0], (low[1, 0] + low[1, 1] - low[0, 0] - low[0, 1]) / 2, rtol=0, atol=1e-12)
    np.testing.assert_allclose(d2[0, 0], (low[0, 0] + low[1, 1] - low[0, 1] - low[1, 0]) / 2, rtol=0, atol=1e-12)
    np.testing.assert_allclose(v2[0, 0], (low[0, 1] + low[1, 1] - low[0, 0] - low[1, 0]) / 2, rtol=0, atol=1e-12)


# --- properties --------------------------------------------------------------------------------


def _natural_like(seed: int, shape: tuple[int, int]) -> np.ndarray:
    """Smooth structure plus noise, uint8."""
    rng = np.random.default_rng(seed)
    rows, cols = np.indices(shape)
    phase = rng.random(4) * 6.28
    smooth = 90 * np.sin(rows / (3 + 5 * rng.random()) + phase[0]) * np.cos(cols / (4 + 5 * rng.random()) + phase[1])
    return np.clip(128 + smooth + rng.normal(0, 20, shape), 0, 255).astype(np.uint8)


def _triple(seed: int, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = _natural_like(seed, shape)
    b = _natural_like(seed + 1, shape)
    rng = np.random.default_rng(seed + 2)
    weight = rng.random(shape)
    return a, b, np.round(weight * a + (1 - weight) * b).astype(np.uint8)


def test_fused_equal_to_both_sources() -> None:
    image = _natural_like(7, (64, 70))
    # Every pixel: strength ratio 1 and orientation 1 through the sigmoids.
    best = 0.9994 / (1 + math.exp(-15 * 0.5)) * 0.9879 / (1 + math.exp(-22 * 0.2))
    assert qabf(image, image, image) == pytest.approx(best, rel=1e-12)
    assert qc(image, image, image) == pytest.approx(1.0, rel=1e-12)
    assert qm(image, image, image) == pytest.approx(3.0, rel=1e-12)
    # sv^2 is a rounding residue (clamped to 1e-10), so VID = VIND up to ~1e-12.
    assert viff(image, image, image) == pytest.approx(1.0, rel=1e-9)
    # F - B + 1e-5 is constant: corr2 of it is a rounding-level value in the reference
    # (the mean of n copies of 1e-5 is not exactly 1e-5), so SCD is ~0, not NaN.
    assert abs(scd(image, image, image)) < 1e-12


@pytest.mark.parametrize("metric", ["Qabf", "Qc", "Qm", "SCD"])
def test_symmetric_in_the_sources(metric: str) -> None:
    a, b, f = _triple(11, (57, 63))
    m = get_metric(metric)
    # Qabf: the reference compares g_B, but not g_A, with the zero-guarded fused gradient,
    # which makes it asymmetric by ~1e-5 / g in the strength of pixels where g_F = 0.
    assert m(a, b, f) == pytest.approx(m(b, a, f), rel=1e-6 if metric == "Qabf" else 1e-12)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), rows=st.integers(41, 64), cols=st.integers(41, 64))
def test_ranges_on_random_images(seed: int, rows: int, cols: int) -> None:
    values = fusionbench.evaluate(*_triple(seed, (rows, cols)), metrics=list(PAPER_METRICS))
    assert 0.0 <= values["Qabf"] <= 1.0
    assert 0.0 <= values["Qc"] <= 1.0
    assert 0.0 <= values["Qm"] <= 3.0
    assert -2.0 <= values["SCD"] <= 2.0
    assert values["VIFF"] >= 0.0


def test_constant_images_give_documented_values_without_warnings() -> None:
    # Big enough for the per-pixel stages to run in several blocks (threads).
    flat = np.full((180, 190), 90, dtype=np.uint8)
    fused = _natural_like(5, (180, 190))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Constant sources: every VIFF term is 0, each scale ratio (n 1e-7) / (n 1e-7).
        assert viff(flat, flat, fused) == pytest.approx(1.0, rel=1e-12)
        assert viff(flat, flat, flat) == pytest.approx(1.0, rel=1e-12)
        assert math.isnan(qc(fused, fused, flat))  # normalize1: 0 / 0
        assert math.isnan(qm(flat, flat, fused))  # no detail in the sources: 0 / 0
        assert math.isnan(scd(flat, fused, fused))
        best = 0.9994 / (1 + math.exp(-7.5)) * 0.9879 / (1 + math.exp(-4.4))
        assert qabf(flat, flat, flat) == pytest.approx(best, rel=1e-12)


def test_too_small_images_give_nan_as_the_reference() -> None:
    a, b, f = _triple(3, (40, 64))
    assert math.isnan(viff(a, b, f))  # the scale-4 'valid' window leaves nothing below 41 rows
    assert not math.isnan(viff(*_triple(3, (41, 41))))
    assert math.isnan(qm(a[:3], b[:3], f[:3]))  # buildWpyr(., 2) needs 4 rows
    assert not math.isnan(qm(a[:4], b[:4], f[:4]))


def test_evaluate_together_equals_each_alone() -> None:
    a, b, f = _triple(21, (60, 75))
    together = fusionbench.evaluate(a, b, f)  # every metric that needs no ground truth
    for name in PAPER_METRICS:
        alone = get_metric(name)(a, b, f)
        assert together[name] == alone or (math.isnan(alone) and math.isnan(together[name])), name


def test_registration() -> None:
    for name, alias in [("Qabf", "QG"), ("Qc", "QCB")]:
        assert get_metric(alias).name == name
    assert get_metric("Qm").range == (0.0, 3.0)
    assert set(fusionbench.metrics.METRIC_SETS["seven"]) <= set(fusionbench.list_metrics())


def _qabf_in_child(images: tuple[np.ndarray, np.ndarray, np.ndarray], queue) -> None:
    queue.put(qabf(*images))


@pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(), reason="no fork")
def test_thread_pool_survives_fork() -> None:
    """A process forked after the per-pixel thread pool started must get its own pool
    (the parent's threads do not exist in the child: reusing the pool would hang)."""
    import multiprocessing

    images = _triple(8, (200, 230))  # several row blocks, so the pool is used
    expected = qabf(*images)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_qabf_in_child, args=(images, queue))
    child.start()
    child.join(60)
    if child.is_alive():
        child.kill()
        pytest.fail("metric computation hung in a forked child")
    assert queue.get(timeout=5) == expected


def test_values_do_not_depend_on_the_thread_count(monkeypatch: pytest.MonkeyPatch) -> None:
    import fusionbench.metrics._shared as shared

    a, b, f = _triple(13, (150, 170))  # several row blocks and filter tasks
    # Every metric (FMI's per-window loops use no threads and take seconds), bit for bit.
    names = [name for name in fusionbench.list_metrics() if name != "FMI"]
    threaded = fusionbench.evaluate(a, b, f, metrics=names, gt=b)
    monkeypatch.setattr(shared, "_THREADS", 1)
    single = fusionbench.evaluate(a, b, f, metrics=names, gt=b)
    assert {k: repr(v) for k, v in threaded.items()} == {k: repr(v) for k, v in single.items()}


def test_nested_parallel_work_does_not_deadlock() -> None:
    """A pool task that itself filters (uses the pool) runs its inner work in its own thread."""
    from fusionbench.metrics._shared import parallel_map, thread_count

    images = np.random.default_rng(2).random((4, 60, 70))
    window = fspecial_gaussian((1, 9), 1.8)[0]
    tasks = [images[i : i + 1] for i in range(2 * thread_count() + 1)]
    nested = parallel_map(lambda stack: correlate_separable(stack, window, window), tasks)
    for stack, result in zip(tasks, nested):
        np.testing.assert_array_equal(result, correlate_separable(stack, window, window))
