"""Intermediates that several metric modules use, computed once per :class:`MetricInputs`.

Cached values are keyed by what they are, so a metric that needs e.g. the Sobel responses
of the fused image gets the ones another metric already computed. Also holds
:func:`correlate_separable`, the fast exact filter behind the window statistics.
"""

from __future__ import annotations

import numpy as np

from ._matlab import matlab_round
from .inputs import MetricInputs

__all__ = ["correlate_separable", "sobel_filter2", "normalize1"]

# Output columns per block in correlate_separable: big enough for efficient matrix products,
# small enough that the Toeplitz block stays mostly non-zero.
_MIN_BLOCK = 16


def _toeplitz_block(kernel: np.ndarray, outputs: int, step: int) -> np.ndarray:
    """Matrix T with ``(x_block @ T)[j] = sum_t kernel[t] x_block[step*j + t]``."""
    n = kernel.size
    block = np.zeros((step * (outputs - 1) + n, outputs))
    for j in range(outputs):
        block[step * j : step * j + n, j] = kernel
    return block


def _correlate_last_axis(images: np.ndarray, kernel: np.ndarray, step: int) -> np.ndarray:
    """'valid' 1-D correlation along the last axis, keeping every ``step``-th output."""
    width = images.shape[-1]
    n = kernel.size
    n_out = (width - n) // step + 1
    if n_out <= 0:
        return np.zeros(images.shape[:-1] + (0,))
    b = min(max(_MIN_BLOCK, n), n_out)
    block = _toeplitz_block(kernel, b, step)
    rows = images.reshape(-1, width)  # one matrix product per block, not one per image
    out = np.empty((rows.shape[0], n_out))
    for start in range(0, n_out, b):
        count = min(b, n_out - start)
        first = step * start
        span = step * (count - 1) + n
        np.matmul(rows[:, first : first + span], block[:span, :count], out=out[:, start : start + count])
    return out.reshape(images.shape[:-1] + (n_out,))


def _correlate_second_last_axis(images: np.ndarray, kernel: np.ndarray, step: int) -> np.ndarray:
    """As :func:`_correlate_last_axis`, along the rows (axis -2)."""
    height = images.shape[-2]
    n = kernel.size
    n_out = (height - n) // step + 1
    if n_out <= 0:
        return np.zeros(images.shape[:-2] + (0, images.shape[-1]))
    b = min(max(_MIN_BLOCK, n), n_out)
    block_t = np.ascontiguousarray(_toeplitz_block(kernel, b, step).T)
    out = np.empty(images.shape[:-2] + (n_out, images.shape[-1]))
    for start in range(0, n_out, b):
        count = min(b, n_out - start)
        first = step * start
        span = step * (count - 1) + n
        np.matmul(block_t[:count, :span], images[..., first : first + span, :], out=out[..., start : start + count, :])
    return out


def correlate_separable(
    images: np.ndarray, column_kernel: np.ndarray, row_kernel: np.ndarray, step: int = 1
) -> np.ndarray:
    """``filter2(column_kernel[:, None] * row_kernel[None, :], image, 'valid')`` for each
    image of a stack ``(..., H, W)``, optionally keeping only every ``step``-th row and
    column of the result (``out(1:step:end, 1:step:end)``).

    Direct summation, done as small banded (Toeplitz) matrix products: exact up to the
    rounding of a direct 1-D then 1-D sum (~1e-16 relative), unlike FFT filtering, and
    faster than it for kernels up to a few dozen taps. The result differs from filtering
    with the 2-D kernel only by that rounding.
    """
    images = np.asarray(images, dtype=np.float64)
    rows_done = _correlate_last_axis(images, np.asarray(row_kernel, dtype=np.float64), step)
    return _correlate_second_last_axis(rows_done, np.asarray(column_kernel, dtype=np.float64), step)


def sobel_filter2(x: MetricInputs, role: str) -> tuple[np.ndarray, np.ndarray]:
    """``filter2(K, I, 'same')`` (zero padding) of image ``role`` with the Sobel kernels
    ``K = [-1 0 1; -2 0 2; -1 0 1]`` (response to horizontal change, returned first) and its
    transpose (vertical change). Integer arithmetic on integer images, so exact."""

    def compute() -> tuple[np.ndarray, np.ndarray]:
        img = x.image(role)
        h, w = img.shape
        padded = np.zeros((h + 2, w + 2))
        padded[1:-1, 1:-1] = img
        # [1 2 1] smoothing across the derivative direction, central difference along it.
        smooth_rows = padded[:-2, :] + 2.0 * padded[1:-1, :] + padded[2:, :]
        horizontal = smooth_rows[:, 2:] - smooth_rows[:, :-2]
        smooth_cols = padded[:, :-2] + 2.0 * padded[:, 1:-1] + padded[:, 2:]
        vertical = smooth_cols[2:, :] - smooth_cols[:-2, :]
        return horizontal, vertical

    return x.cached(("sobel_filter2", role), compute)


def normalize1(x: MetricInputs, role: str) -> np.ndarray:
    """``normalize1.m`` of image ``role``: ``round((I - min) / (max - min) * 255)`` (MATLAB
    ``round``); an all-zero image is returned as is; any other constant image gives all-NaN
    (0 / 0), as in MATLAB."""

    def compute() -> np.ndarray:
        img = x.image(role)
        hi, lo = img.max(), img.min()
        if hi == 0 and lo == 0:
            return img
        if hi == lo:
            return np.full(img.shape, np.nan)
        return matlab_round((img - lo) / (hi - lo) * 255.0)

    return x.cached(("normalize1_nan", role), compute)
