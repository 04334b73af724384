"""Building blocks shared by several fusion methods (box and guided filters)."""

from __future__ import annotations

import numpy as np

__all__ = ["box_sum", "box_mean", "guided_filter"]


def box_sum(image: np.ndarray, r: int) -> np.ndarray:
    """Sum over the (2r+1) x (2r+1) window around each pixel, the window clipped at the image
    border (He et al.'s ``boxfilter.m``: cumulative sums, O(1) per pixel). Works on (H, W) and
    on (H, W, C) stacks (each channel separately)."""
    image = np.asarray(image, dtype=np.float64)
    h, w = image.shape[:2]
    r_h, r_w = min(r, h - 1), min(r, w - 1)
    cum = np.cumsum(image, axis=0)
    pad = np.concatenate([np.zeros_like(cum[:1]), cum], axis=0)  # pad[i] = sum of rows < i
    rows = np.arange(h)
    hi = np.minimum(rows + r_h + 1, h)
    lo = np.maximum(rows - r_h, 0)
    vertical = pad[hi] - pad[lo]
    cum = np.cumsum(vertical, axis=1)
    pad = np.concatenate([np.zeros_like(cum[:, :1]), cum], axis=1)
    cols = np.arange(w)
    hi = np.minimum(cols + r_w + 1, w)
    lo = np.maximum(cols - r_w, 0)
    return pad[:, hi] - pad[:, lo]


def box_mean(image: np.ndarray, r: int) -> np.ndarray:
    """Mean over the (2r+1) x (2r+1) window clipped at the border (``boxfilter(I, r) ./ N``)."""
    image = np.asarray(image, dtype=np.float64)
    counts = box_sum(np.ones(image.shape[:2]), r)
    if image.ndim == 3:
        counts = counts[..., np.newaxis]
    return box_sum(image, r) / counts


def guided_filter(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> np.ndarray:
    """Gray-guide guided filter (He, Sun & Tang, ECCV 2010 / TPAMI 2013).

    ``guide`` (H, W); ``src`` (H, W) or (H, W, C) filtered channel by channel with the same
    guide. Window radius ``r``, regularisation ``eps``. Means use the border-clipped box of
    :func:`box_mean`, as the authors' ``guidedfilter.m``.
    """
    guide = np.asarray(guide, dtype=np.float64)
    src = np.asarray(src, dtype=np.float64)
    g = guide if src.ndim == 2 else guide[..., np.newaxis]
    mean_i = box_mean(guide, r)
    var_i = box_mean(guide * guide, r) - mean_i * mean_i
    if src.ndim == 3:
        mean_i, var_i = mean_i[..., np.newaxis], var_i[..., np.newaxis]
    mean_p = box_mean(src, r)
    cov_ip = box_mean(g * src, r) - mean_i * mean_p
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return box_mean(a, r) * g + box_mean(b, r)
