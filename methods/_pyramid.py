"""Pyramid building blocks shared by the LP, RP and MP baselines, and the max-abs selection
rule shared by the multi-scale methods.

Borders are whole-sample symmetric (``x[-1] = x[1]``, numpy ``np.pad(mode="reflect")``).
The Gaussian pyramid uses Burt & Adelson's 5-tap generating kernel ``[1, 4, 6, 4, 1] / 16``
(a = 0.375). Both reduce and expand are written in polyphase form (only the samples that are
kept are computed), so one level costs a few array operations.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "select_max_abs",
    "pyramid_depth",
    "gaussian_reduce",
    "gaussian_expand",
    "open_close",
    "morphological_reduce",
    "replicate_expand",
]


def select_max_abs(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Coefficient-wise choose-max rule: ``x`` where ``|x| >= |y|``, else ``y``."""
    return np.where(np.abs(x) >= np.abs(y), x, y)


def pyramid_depth(shape: tuple[int, ...], levels: int) -> int:
    """``levels`` reduced so that the coarsest level is still at least 2 x 2 pixels
    (each reduction halves the size, rounding up)."""
    depth, h, w = 0, shape[0], shape[1]
    while depth < levels and min(h, w) >= 4:
        h, w = (h + 1) // 2, (w + 1) // 2
        depth += 1
    return depth


def _reduce_axis(x: np.ndarray, axis: int) -> np.ndarray:
    """Smooth with [1 4 6 4 1]/16 along ``axis`` and keep the even samples."""
    x = np.moveaxis(x, axis, 0)
    n = x.shape[0]
    padded = np.pad(x, [(2, 2)] + [(0, 0)] * (x.ndim - 1), mode="reflect")
    keep = slice(2, n + 2, 2)  # the even samples, in padded coordinates
    centre = padded[keep]
    out = centre * np.float32(6.0 / 16.0)
    out += (padded[slice(1, n + 1, 2)] + padded[slice(3, n + 3, 2)]) * np.float32(4.0 / 16.0)
    out += (padded[slice(0, n, 2)] + padded[slice(4, n + 4, 2)]) * np.float32(1.0 / 16.0)
    return np.moveaxis(out, 0, axis)


def _expand_axis(x: np.ndarray, n: int, axis: int) -> np.ndarray:
    """Insert zeros between the samples of ``x`` (to length ``n``) and filter with
    2 * [1 4 6 4 1]/16 along ``axis``, symmetric at the borders of the zero-filled signal."""
    x = np.moveaxis(x, axis, 0)
    m = x.shape[0]  # == (n + 1) // 2
    # Neighbours of the zero-filled signal mirrored at its ends: before x[0] comes x[1]; after
    # x[m-1] comes x[m-2] when n is odd (the last sample is kept) and x[m-1] when n is even.
    before = x[1:2] if m > 1 else x[:1]
    after = x[m - 2 : m - 1] if (n % 2 == 1 and m > 1) else x[m - 1 : m]
    ext = np.concatenate([before, x, after], axis=0)
    out = np.empty((n,) + x.shape[1:], dtype=x.dtype)
    out[0::2] = (ext[:m] + ext[2 : m + 2]) * np.float32(1.0 / 8.0) + ext[1 : m + 1] * np.float32(6.0 / 8.0)
    odd = n // 2
    out[1::2] = (ext[1 : odd + 1] + ext[2 : odd + 2]) * np.float32(0.5)
    return np.moveaxis(out, 0, axis)


def gaussian_reduce(x: np.ndarray) -> np.ndarray:
    """One Gaussian-pyramid REDUCE (Burt & Adelson 1983): low-pass, keep every second row and
    column; an (H, W) image becomes ((H+1)//2, (W+1)//2)."""
    return _reduce_axis(_reduce_axis(x, 0), 1)


def gaussian_expand(x: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """One Gaussian-pyramid EXPAND to ``shape`` (interpolation by 2 with the same kernel)."""
    return _expand_axis(_expand_axis(x, shape[0], 0), shape[1], 1)


def _rank_axis(x: np.ndarray, size: int, axis: int, op) -> np.ndarray:
    """Running minimum (erosion) or maximum (dilation) over ``size`` samples along ``axis``,
    border samples repeated (for min/max the same as ndimage's default 'reflect' mode). Window
    placement as ndimage.grey_erosion / grey_dilation: an even window has ``size // 2``
    samples before the centre for erosion and after it for dilation (the reflected element)."""
    x = np.moveaxis(x, axis, 0)
    before, after = size // 2, (size - 1) // 2
    if op is np.maximum:
        before, after = after, before
    out = x.copy()
    # Shifts that fall outside the image are skipped: the repeated border sample they would
    # bring in is already inside the window.
    for d in range(1, after + 1):
        op(out[:-d], x[d:], out=out[:-d])
    for d in range(1, before + 1):
        op(out[d:], x[:-d], out=out[d:])
    return np.moveaxis(out, 0, axis)


def _rank_filter(x: np.ndarray, size: int, op) -> np.ndarray:
    return _rank_axis(_rank_axis(x, size, 0, op), size, 1, op)


def open_close(x: np.ndarray, size: int = 3) -> np.ndarray:
    """Morphological open-close filter with a ``size`` x ``size`` square (flat structuring
    element): ``closing(opening(x))``, i.e. erosion, dilation, dilation, erosion - equal to
    ``ndimage.grey_closing(ndimage.grey_opening(x, size), size)``, computed with separable
    running minima/maxima."""
    opened = _rank_filter(_rank_filter(x, size, np.minimum), size, np.maximum)
    return _rank_filter(_rank_filter(opened, size, np.maximum), size, np.minimum)


def morphological_reduce(x: np.ndarray, size: int = 3) -> np.ndarray:
    """Morphological-pyramid REDUCE (Toet 1989): open-close filter with a ``size`` x ``size``
    square, then keep every second row and column."""
    return open_close(x, size)[::2, ::2]


def replicate_expand(x: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour expansion by 2 (pixel replication), cropped to ``shape``."""
    return np.repeat(np.repeat(x, 2, axis=0)[: shape[0]], 2, axis=1)[:, : shape[1]]
