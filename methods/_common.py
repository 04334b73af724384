"""Building blocks shared by several fusion methods (box and guided filters).

All filters here work on (H, W) images and on (H, W, C) stacks (each channel separately), and
compute in ``dtype`` (float64 by default; float32 halves the time where ~1e-7 relative error
does not matter - scipy.ndimage accumulates each running sum in double either way).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["box_sum", "box_mean", "box_counts", "guided_filter"]


def box_counts(shape: tuple[int, ...], r: int, dtype=np.float64) -> np.ndarray:
    """Number of pixels in the (2r+1) x (2r+1) window clipped at the border, shape (H, W)
    (``boxfilter(ones(h, w), r)`` in He et al.'s code)."""
    h, w = shape[:2]

    def along(n: int) -> np.ndarray:
        i = np.arange(n)
        return (np.minimum(i + r, n - 1) - np.maximum(i - r, 0) + 1).astype(dtype)

    return np.multiply.outer(along(h), along(w))


def box_sum(image: np.ndarray, r: int, dtype=np.float64) -> np.ndarray:
    """Sum over the (2r+1) x (2r+1) window around each pixel, the window clipped at the image
    border (He et al.'s ``boxfilter.m``): a zero-padded running sum, O(1) per pixel, separable."""
    image = np.asarray(image, dtype=dtype)
    size = 2 * r + 1
    out = ndimage.uniform_filter1d(image, size, axis=0, mode="constant")
    out = ndimage.uniform_filter1d(out, size, axis=1, mode="constant", output=out)
    out *= size * size
    return out


def box_mean(image: np.ndarray, r: int, dtype=np.float64) -> np.ndarray:
    """Mean over the (2r+1) x (2r+1) window clipped at the border (``boxfilter(I, r) ./ N``)."""
    image = np.asarray(image, dtype=dtype)
    return _box_mean(image, r, _inverse_fraction(image.shape, r, dtype))


def _inverse_fraction(shape: tuple[int, ...], r: int, dtype) -> np.ndarray:
    """(2r+1)^2 / N: turns a zero-padded window mean into the mean over the clipped window."""
    scale = np.dtype(dtype).type((2 * r + 1) ** 2) / box_counts(shape, r, dtype)
    return scale if len(shape) == 2 else scale[..., np.newaxis]


def _box_mean(image: np.ndarray, r: int, inverse_fraction: np.ndarray) -> np.ndarray:
    size = 2 * r + 1
    out = ndimage.uniform_filter1d(image, size, axis=0, mode="constant")
    out = ndimage.uniform_filter1d(out, size, axis=1, mode="constant", output=out)
    out *= inverse_fraction
    return out


def guided_filter(
    guide: np.ndarray, src: np.ndarray, r: int, eps: float, dtype=np.float64, mean_src: np.ndarray | None = None
) -> np.ndarray:
    """Gray-guide guided filter (He, Sun & Tang, ECCV 2010 / TPAMI 2013).

    ``guide`` (H, W); ``src`` (H, W) or (H, W, C) filtered channel by channel with the same
    guide. Window radius ``r``, regularisation ``eps``. Means use the border-clipped box of
    :func:`box_mean`, as the authors' ``guidedfilter.m``. The output does not depend on an
    offset of the guide, so the guide is centred on its mean first: that keeps the variance
    ``E[I^2] - E[I]^2`` accurate in float32 when ``eps`` is small. ``mean_src``: the box mean
    of ``src`` when the caller already has it (``box_mean(src, r, dtype)``).
    """
    guide = np.asarray(guide, dtype=dtype)
    guide = guide - guide.mean(dtype=np.float64).astype(dtype)
    src = np.asarray(src, dtype=dtype)
    scale = _inverse_fraction(guide.shape, r, dtype)
    mean_i = _box_mean(guide, r, scale)
    var_i = _box_mean(guide * guide, r, scale)
    var_i -= mean_i * mean_i
    var_i += np.dtype(dtype).type(eps)
    if src.ndim == 3:
        guide, mean_i, var_i, scale = (x[..., np.newaxis] for x in (guide, mean_i, var_i, scale))
    mean_p = _box_mean(src, r, scale) if mean_src is None else np.array(mean_src, dtype=dtype)
    a = _box_mean(guide * src, r, scale)
    a -= mean_i * mean_p
    a /= var_i
    mean_p -= a * mean_i  # now b
    q = _box_mean(a, r, scale)
    q *= guide
    q += _box_mean(mean_p, r, scale)
    return q
