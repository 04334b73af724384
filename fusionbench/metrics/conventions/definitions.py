"""Metric definitions used by conventions other than ``reference``.

Each is a function of :class:`~fusionbench.metrics.inputs.MetricInputs` (one plane of a
convention's input transform) returning a float, like a registered metric's own definition,
and reproduces one published evaluator's code (the docstrings name it). Where that code
computes in float32 (CDDFuse's evaluator works on float32 images), so does the definition
here: its values depend on float32 rounding at the 1e-7 level.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .._matlab import matlab_round
from .._shared import sobel_filter2
from ..inputs import MetricInputs
from ..reference_based import structural_similarity
from ..vif_pixel import vifp_terms

__all__ = [
    "avg_forward_valid",
    "std_all_pixels",
    "cddfuse_sd",
    "cddfuse_sf",
    "cddfuse_ag",
    "mi_nats_sum",
    "cddfuse_scd",
    "cddfuse_cc",
    "cddfuse_vif",
    "cddfuse_qabf",
    "cddfuse_ssim",
    "vifb_ag",
    "vifb_entropy",
    "vifb_sd",
    "vifb_mi",
    "vifb_qabf",
    "vifb_ssim",
]


# ---------------------------------------------------------------- UFA-Fuse paper (Table V)


def avg_forward_valid(x: MetricInputs) -> float:
    """Average gradient on the (H-1) x (W-1) grid of forward differences: mean of
    sqrt((dx^2 + dy^2) / 2) with dx = F(i, j+1) - F(i, j), dy = F(i+1, j) - F(i, j), i < H,
    j < W (the textbook formula, no border term)."""
    f = x.fused
    dx = f[:-1, 1:] - f[:-1, :-1]
    dy = f[1:, :-1] - f[:-1, :-1]
    return float(np.mean(np.sqrt((dx * dx + dy * dy) / 2.0)))


def std_all_pixels(x: MetricInputs) -> float:
    """Standard deviation of all pixels, sample form (N - 1): MATLAB ``std2(F)`` /
    ``std(F(:))``."""
    return float(np.std(x.fused, ddof=1))


# ---------------------------------------------------------------- CDDFuse utils/Evaluator.py


def _float32(x: MetricInputs, role: str) -> np.ndarray:
    return x.cached(("float32", role), lambda: x.image(role).astype(np.float32))


def cddfuse_sd(x: MetricInputs) -> float:
    """``Evaluator.SD``: ``np.std(F)`` of the float32 image (population std, float32)."""
    return float(np.std(_float32(x, "fused")))


def cddfuse_sf(x: MetricInputs) -> float:
    """``Evaluator.SF``: sqrt(mean of squared horizontal differences + mean of squared
    vertical differences), each mean over its own (H x (W-1) or (H-1) x W) differences;
    float32."""
    f = _float32(x, "fused")
    return float(np.sqrt(np.mean((f[:, 1:] - f[:, :-1]) ** 2) + np.mean((f[1:, :] - f[:-1, :]) ** 2)))


def _gradient(f: np.ndarray, axis: int) -> np.ndarray:
    """``numpy.gradient`` / MATLAB ``gradient`` along ``axis``: central differences
    (x[i+1] - x[i-1]) / 2 inside, one-sided differences at the two ends; in f's dtype."""
    out = np.empty_like(f)
    moved, src = np.moveaxis(out, axis, 0), np.moveaxis(f, axis, 0)
    moved[0] = src[1] - src[0]
    moved[-1] = src[-1] - src[-2]
    moved[1:-1] = (src[2:] - src[:-2]) / 2
    return out


def cddfuse_ag(x: MetricInputs) -> float:
    """``Evaluator.AG``: mean over all H x W pixels of sqrt((Gx^2 + Gy^2) / 2), Gx and Gy
    central differences (one-sided at the borders); float32."""
    f = _float32(x, "fused")
    gx, gy = _gradient(f, 1), _gradient(f, 0)
    return float(np.mean(np.sqrt((gx**2 + gy**2) / 2)))


def _mutual_information_nats(x: np.ndarray, y: np.ndarray) -> float:
    """MI in nats of two images with integer levels 0..255 (as labels), from their joint
    histogram: sum p(i, j) ln(p(i, j) / (p(i) p(j))), at least 0."""
    codes = x.astype(np.intp).ravel() * 256 + y.astype(np.intp).ravel()
    counts = np.bincount(codes, minlength=256 * 256).astype(np.float64).reshape(256, 256)
    n = counts.sum()
    rows, cols = counts.sum(axis=1), counts.sum(axis=0)
    i, j = np.nonzero(counts)
    nij = counts[i, j]
    mi = np.sum(nij / n * (np.log(nij) + np.log(n) - np.log(rows[i] * cols[j])))
    return float(max(mi, 0.0))


def mi_nats_sum(x: MetricInputs) -> float:
    """``Evaluator.MI``: ``sklearn.metrics.mutual_info_score(F, A) + mutual_info_score(F, B)``,
    the un-normalised MI of Qu et al. 2002 in nats, the gray levels used as labels (no
    rescaling)."""
    return _mutual_information_nats(x.fused, x.a) + _mutual_information_nats(x.fused, x.b)


def _correlation32(u: np.ndarray, v: np.ndarray) -> np.float32:
    """Pearson correlation as the evaluator writes it, in float32."""
    du, dv = u - np.mean(u), v - np.mean(v)
    return np.sum(du * dv) / np.sqrt(np.sum(du**2) * np.sum(dv**2))


def cddfuse_scd(x: MetricInputs) -> float:
    """``Evaluator.SCD``: r(A, F - B) + r(B, F - A) (Pearson, float32; no 1e-5 offset)."""
    a, b, f = _float32(x, "a"), _float32(x, "b"), _float32(x, "fused")
    return float(_correlation32(a, f - b) + _correlation32(b, f - a))


def cddfuse_cc(x: MetricInputs) -> float:
    """``Evaluator.CC``: (r(A, F) + r(B, F)) / 2 (Pearson, float32)."""
    a, b, f = _float32(x, "a"), _float32(x, "b"), _float32(x, "fused")
    return float((_correlation32(a, f) + _correlation32(b, f)) / 2)


def cddfuse_vif(x: MetricInputs) -> float:
    """``Evaluator.VIFF``: ``compare_viff(A, F) + compare_viff(B, F)``, Sheikh & Bovik's
    pixel-domain VIF (``vifp_mscale.m``, ported) against each source, a NaN term (constant
    source) counted as 1. Printed as "VIF" by the evaluator's scripts; not Han et al.'s VIFF."""
    total = 0.0
    for role in ("a", "b"):
        num, den = vifp_terms(x, role)
        value = np.float64(num) / np.float64(den)
        total += 1.0 if np.isnan(value) else float(value)
    return total


def _online_qabf(x: MetricInputs, dtype: type, scale: float) -> float:
    """The Q^AB/F found "online" and copied by VIFB (``metricsQabf.m``) and CDDFuse
    (``Evaluator.Qabf``): responses ``conv2(I, h3, 'same')`` and ``conv2(I, h1, 'same')``
    (so x is minus the correlation response), angle atan(y / x) with pi/2 where x = 0,
    G = g_F / g_S where g_S > g_F, g_S / g_F where g_S < g_F, and **g_F where they are equal**
    (not 1), A = 1 - |a_S - a_F| / (pi/2), Q = 0.9994 / (1 + exp(-15 (G - 0.5))) *
    0.9879 / (1 + exp(-22 (A - 0.8))), Q^AB/F = sum(Q_A g_A + Q_B g_B) / sum(g_A + g_B).
    ``scale`` multiplies the images first (VIFB's ``255 * im2double(double(I))``: that only
    changes the equal-strength term)."""

    def responses(role: str) -> tuple[np.ndarray, np.ndarray]:
        horizontal, vertical = sobel_filter2(x, role)
        sx = (-scale * horizontal).astype(dtype)
        sy = (scale * vertical).astype(dtype)
        g = np.sqrt(sx * sx + sy * sy)
        angle = np.full(sx.shape, np.pi / 2, dtype=dtype)
        nonzero = sx != 0
        angle[nonzero] = np.arctan(sy[nonzero] / sx[nonzero])
        return g, angle

    def preservation(g_s: np.ndarray, a_s: np.ndarray, g_f: np.ndarray, a_f: np.ndarray) -> np.ndarray:
        strength = np.zeros_like(a_s)
        above, equal, below = g_s > g_f, g_s == g_f, g_s < g_f
        strength[above] = g_f[above] / g_s[above]
        strength[equal] = g_f[equal]
        strength[below] = g_s[below] / g_f[below]
        orientation = 1 - np.abs(a_s - a_f) / (np.pi / 2)
        q_g = 0.9994 / (1 + np.exp(-15 * (strength - 0.5)))
        q_a = 0.9879 / (1 + np.exp(-22 * (orientation - 0.8)))
        return q_g * q_a

    (g_a, a_a), (g_b, a_b), (g_f, a_f) = responses("a"), responses("b"), responses("fused")
    q_af = preservation(g_a, a_a, g_f, a_f)
    q_bf = preservation(g_b, a_b, g_f, a_f)
    return float(np.sum(q_af * g_a + q_bf * g_b) / np.sum(g_a + g_b))


def cddfuse_qabf(x: MetricInputs) -> float:
    """``Evaluator.Qabf``: the "online" Q^AB/F (see :func:`_online_qabf`) in float32."""
    return _online_qabf(x, np.float32, 1.0)


def _skimage_ssim_float32(f: np.ndarray, s: np.ndarray) -> float:
    """``skimage.metrics.structural_similarity(F, S)`` of scikit-image 0.19 (CDDFuse's pinned
    version) on float32 images without ``data_range``: 7 x 7 uniform window (``reflect``
    borders), sample covariances (x 49/48), data range 2 (float's nominal [-1, 1]), so
    C1 = 4e-4 and C2 = 3.6e-3 on 0..255 images; computed in float32; mean over the map
    without its 3-pixel border. (Newer scikit-image refuses float images without a
    ``data_range``.)"""
    size, data_range = 7, 2.0
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    cov_norm = size * size / (size * size - 1)
    ux = ndimage.uniform_filter(f, size=size)
    uy = ndimage.uniform_filter(s, size=size)
    uxx = ndimage.uniform_filter(f * f, size=size)
    uyy = ndimage.uniform_filter(s * s, size=size)
    uxy = ndimage.uniform_filter(f * s, size=size)
    vx = cov_norm * (uxx - ux * ux)
    vy = cov_norm * (uyy - uy * uy)
    vxy = cov_norm * (uxy - ux * uy)
    numerator = (2 * ux * uy + c1) * (2 * vxy + c2)
    denominator = (ux**2 + uy**2 + c1) * (vx + vy + c2)
    pad = (size - 1) // 2
    return float((numerator / denominator)[pad:-pad, pad:-pad].mean(dtype=np.float64))


def cddfuse_ssim(x: MetricInputs) -> float:
    """``Evaluator.SSIM``: SSIM(F, A) + SSIM(F, B), **summed**, each scikit-image's default
    SSIM on float32 images (see :func:`_skimage_ssim_float32`); 2 for identical images."""
    f = _float32(x, "fused")
    return _skimage_ssim_float32(f, _float32(x, "a")) + _skimage_ssim_float32(f, _float32(x, "b"))


# ---------------------------------------------------------------- VIFB (MATLAB, per channel)


def vifb_ag(x: MetricInputs) -> float:
    """``metricsAvg_gradient``: MATLAB ``gradient`` (central differences inside, one-sided at
    the borders), s = sqrt((dx^2 + dy^2) / 2), sum over all H x W pixels divided by
    (H-1)(W-1)."""
    f = x.fused
    dx, dy = _gradient(f, 1), _gradient(f, 0)
    rows, cols = f.shape
    return float(np.sum(np.sqrt((dx * dx + dy * dy) / 2.0)) / ((rows - 1) * (cols - 1)))


def vifb_entropy(x: MetricInputs) -> float:
    """``metricsEntropy``: Shannon entropy in bits of the 256-bin histogram, pixel values
    floored to their bin (``X(floor(v) + 1)``)."""
    counts = np.bincount(np.floor(x.fused).astype(np.intp).ravel(), minlength=256).astype(np.float64)
    p = counts[counts > 0] / x.fused.size
    return float(-np.sum(p * np.log2(p)))


def vifb_sd(x: MetricInputs) -> float:
    """``metricsVariance`` (despite its name, a standard deviation): population std,
    sqrt(sum((F - mean)^2) / (H W)), mean taken as ``mean(mean(F))``."""
    f = x.fused
    centred = f - np.mean(np.mean(f, axis=0))
    return float(np.sqrt(np.sum(centred * centred) / f.size))


def _vifb_levels(image: np.ndarray) -> np.ndarray:
    """``mutinf``'s rescaling: (I - min) / (max - min) * 255 rounded half away from zero
    (``int16``); a constant image becomes all zeros."""
    lo, hi = image.min(), image.max()
    if hi == lo:
        return np.zeros(image.shape)
    return matlab_round((image - lo) / (hi - lo) * 255.0)


def vifb_mi(x: MetricInputs) -> float:
    """``metricsMutinf``: MI(A, F) + MI(B, F) in nats (Qu et al. 2002, un-normalised), each
    image first stretched to 0..255 and rounded."""
    fused = _vifb_levels(x.fused)
    return _mutual_information_nats(_vifb_levels(x.a), fused) + _mutual_information_nats(_vifb_levels(x.b), fused)


def vifb_qabf(x: MetricInputs) -> float:
    """``metricsQabf``: the "online" Q^AB/F (see :func:`_online_qabf`) in double precision,
    on the images multiplied by 255 (``255 * im2double(double(I))``)."""
    return _online_qabf(x, np.float64, 255.0)


def vifb_ssim(x: MetricInputs) -> float:
    """``metricsSsim``: SSIM(A, F) + SSIM(B, F), **summed**, each ``ssim_index.m``-style
    (11 x 11 Gaussian window, sigma 1.5, L = 255, 'valid' region)."""
    return structural_similarity(x.a, x.fused) + structural_similarity(x.b, x.fused)
