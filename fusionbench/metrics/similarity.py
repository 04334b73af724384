"""Similarity of the fused image to each source: CC, SSIMs (SSIM against the sources) and
MS-SSIM.

These compare the fused image with the two sources one at a time and report the **mean** of
the two values, so that 1 means "equal to both sources" (the Python evaluator of CDDFuse
and VIFB report the *sum* of the two SSIMs; that variant is their conventions', see
:mod:`fusionbench.metrics.conventions`). All take gray images on [0, 255].
"""

from __future__ import annotations

import numpy as np

from ._matlab import fspecial_gaussian
from ._shared import correlate_separable
from .inputs import MetricInputs
from .reference_based import structural_similarity
from .scd import corr2
from .registry import register_metric

__all__ = ["cc", "ssims", "ms_ssim", "multiscale_ssim"]

# msssim.m defaults (Wang, Simoncelli & Bovik 2003): 5 scales and these exponents.
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
_WINDOW = 11
_K1, _K2, _PEAK = 0.01, 0.03, 255.0


@register_metric(
    "CC",
    aliases=["CORR"],
    needs=("a", "b", "fused"),
    higher_is_better=True,
    range=(-1, 1),
    reference="correlation coefficient, mean of r(A, F) and r(B, F) (as CDDFuse utils/Evaluator.py CC)",
)
def cc(x: MetricInputs) -> float:
    """Correlation coefficient: the mean of the Pearson correlations r(A, F) and r(B, F) over
    all pixels. Range [-1, 1]; 1 when the fused image is an increasing affine function of both
    sources. NaN when a source or the fused image is constant (r divides 0 by 0)."""
    return 0.5 * (corr2(x.a, x.fused) + corr2(x.b, x.fused))


@register_metric(
    "SSIMs",
    aliases=["SSIM_sources"],
    needs=("a", "b", "fused"),
    higher_is_better=True,
    range=(-1, 1),
    reference="Wang, Bovik, Sheikh & Simoncelli 2004 (IEEE TIP 13(4)), against each source; "
    "ssim_index.m defaults",
)
def ssims(x: MetricInputs) -> float:
    """SSIM of the fused image against the sources: the mean of SSIM(A, F) and SSIM(B, F),
    each Wang et al.'s ``ssim_index.m`` with its defaults (11 x 11 Gaussian window, sigma 1.5,
    K = (0.01, 0.03), L = 255, 'valid' region; see
    :func:`~fusionbench.metrics.reference_based.structural_similarity`). Range [-1, 1]; 1
    when the fused image equals both sources. Images must be at least 11 x 11.
    (``SSIM`` is the score against a ground truth.)"""
    return 0.5 * (structural_similarity(x.a, x.fused) + structural_similarity(x.b, x.fused))


def _ssim_and_contrast_structure(x: np.ndarray, y: np.ndarray, window: np.ndarray) -> tuple[float, float]:
    """``[mssim, ~, mcs] = ssim_index_new(x, y, K, window)``: mean SSIM and mean
    contrast-structure term (2 s_xy + C2) / (s_x^2 + s_y^2 + C2) over the 'valid' region."""
    c1 = (_K1 * _PEAK) ** 2
    c2 = (_K2 * _PEAK) ** 2
    stack = np.stack([x, y, x * x, y * y, x * y])
    mu_x, mu_y, xx, yy, xy = correlate_separable(stack, window, window)
    mu_xy = mu_x * mu_y
    mu_x *= mu_x
    mu_y *= mu_y
    sigma_x = xx - mu_x
    sigma_y = yy - mu_y
    sigma_xy = xy - mu_xy
    contrast_structure = (2.0 * sigma_xy + c2) / (sigma_x + sigma_y + c2)
    luminance = (2.0 * mu_xy + c1) / (mu_x + mu_y + c1)
    return float(np.mean(luminance * contrast_structure)), float(np.mean(contrast_structure))


def _halve(image: np.ndarray) -> np.ndarray:
    """``imfilter(I, ones(2)/4, 'symmetric')`` then ``I(1:2:end, 1:2:end)``: means of 2 x 2
    blocks; an odd last row/column is averaged with its mirror copy (i.e. kept)."""
    rows, cols = image.shape
    padded = np.pad(image, ((0, rows % 2), (0, cols % 2)), mode="symmetric")
    return (padded[0::2, 0::2] + padded[1::2, 0::2] + padded[0::2, 1::2] + padded[1::2, 1::2]) / 4.0


def multiscale_ssim(x: np.ndarray, y: np.ndarray) -> float:
    """MS-SSIM of Wang, Simoncelli & Bovik (2003) as their ``msssim.m`` computes it with its
    defaults: at scales 1..5 (each the previous one averaged over 2 x 2 blocks and
    subsampled) the SSIM terms of ``ssim_index_new`` (11 x 11 Gaussian window, sigma 1.5,
    K = (0.01, 0.03), L = 255, 'valid' region); MS-SSIM = prod_{s<5} mcs_s^w_s * mssim_5^w_5
    with w = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333). NaN when the smaller image side is
    under 176 pixels (the fifth scale would be narrower than the window; ``msssim.m`` returns
    -Inf as its error value), and when a contrast-structure mean is negative (MATLAB would
    return a complex number)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    levels = len(MS_SSIM_WEIGHTS)
    if min(x.shape) / 2 ** (levels - 1) < _WINDOW:
        return float("nan")
    window = fspecial_gaussian((1, _WINDOW), 1.5)[0]
    value = 1.0
    for level, weight in enumerate(MS_SSIM_WEIGHTS):
        mssim, mcs = _ssim_and_contrast_structure(x, y, window)
        term = mssim if level == levels - 1 else mcs
        if term < 0:
            return float("nan")
        value *= term**weight
        if level < levels - 1:
            x, y = _halve(x), _halve(y)
    return float(value)


@register_metric(
    "MS_SSIM",
    aliases=["MS-SSIM", "MSSSIM"],
    needs=("a", "b", "fused"),
    higher_is_better=True,
    range=(0, 1),
    reference="Wang, Simoncelli & Bovik 2003 (multi-scale SSIM, Asilomar), against each source; msssim.m defaults",
)
def ms_ssim(x: MetricInputs) -> float:
    """Multi-scale SSIM of the fused image against the sources: the mean of MS-SSIM(A, F) and
    MS-SSIM(B, F) (:func:`multiscale_ssim`: 5 scales, weights 0.0448, 0.2856, 0.3001, 0.2363,
    0.1333). Range [0, 1]; 1 when the fused image equals both sources. NaN for images with a
    side under 176 pixels."""
    return 0.5 * (multiscale_ssim(x.a, x.fused) + multiscale_ssim(x.b, x.fused))
