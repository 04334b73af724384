"""The shared box and guided filters against direct per-window definitions (He et al.'s
``boxfilter.m`` / ``guidedfilter.m``: windows clipped at the image border)."""

from __future__ import annotations

import numpy as np
import pytest

from fusionbench.methods._common import box_counts, box_mean, box_sum, guided_filter


def _windows(h: int, w: int, r: int):
    for i in range(h):
        for j in range(w):
            yield i, j, slice(max(i - r, 0), i + r + 1), slice(max(j - r, 0), j + r + 1)


def _box_sum_direct(x: np.ndarray, r: int) -> np.ndarray:
    out = np.zeros(x.shape)
    for i, j, rows, cols in _windows(*x.shape[:2], r):
        out[i, j] = x[rows, cols].sum(axis=(0, 1))
    return out


def _guided_filter_direct(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> np.ndarray:
    """Per-window linear regression of src on guide, then each pixel averages the linear
    models of all windows that contain it (Eq. 7-8 of He et al. 2013)."""
    h, w = guide.shape
    a = np.zeros((h, w))
    b = np.zeros((h, w))
    for i, j, rows, cols in _windows(h, w, r):
        gi, pi = guide[rows, cols].ravel(), src[rows, cols].ravel()
        a[i, j] = (np.mean(gi * pi) - gi.mean() * pi.mean()) / (gi.var() + eps)
        b[i, j] = pi.mean() - a[i, j] * gi.mean()
    out = np.zeros((h, w))
    for i, j, rows, cols in _windows(h, w, r):
        out[i, j] = a[rows, cols].mean() * guide[i, j] + b[rows, cols].mean()
    return out


@pytest.mark.parametrize("shape,r", [((9, 13), 2), ((6, 5), 4), ((5, 7), 45), ((8, 8, 3), 1)])
def test_box_sum_and_mean_clip_the_window_at_the_border(shape, r) -> None:
    x = np.random.default_rng(0).random(shape)
    expected = _box_sum_direct(x, r)
    np.testing.assert_allclose(box_sum(x, r), expected, rtol=1e-12, atol=1e-12)
    counts = _box_sum_direct(np.ones(shape[:2]), r)
    np.testing.assert_array_equal(box_counts(shape, r), counts)
    mean = expected / (counts if len(shape) == 2 else counts[..., None])
    np.testing.assert_allclose(box_mean(x, r), mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(box_mean(x.astype(np.float32), r, np.float32), mean, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("r,eps", [(2, 0.3), (3, 1e-6), (20, 1e-3)])
def test_guided_filter_matches_per_window_regression(r, eps) -> None:
    rng = np.random.default_rng(1)
    guide = rng.random((11, 14))
    src = (rng.random((11, 14)) > 0.5).astype(float)
    expected = _guided_filter_direct(guide, src, r, eps)
    np.testing.assert_allclose(guided_filter(guide, src, r, eps), expected, rtol=1e-9, atol=1e-10)
    stacked = guided_filter(guide, np.stack([src, 1 - src], axis=2), r, eps)
    np.testing.assert_allclose(stacked[..., 0], expected, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(stacked[..., 1], 1 - expected, rtol=1e-9, atol=1e-9)
    single = guided_filter(guide.astype(np.float32), src.astype(np.float32), r, eps, dtype=np.float32)
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, expected, atol=1e-6)  # centring keeps float32 close
