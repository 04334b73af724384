"""Full-reference scores of a fused image against a ground truth: PSNR and SSIM.

Only usable when a ground-truth (all-in-focus) image exists, e.g. for synthetic multi-focus
pairs. Both take the gray fused and ground-truth images on [0, 255] (8-bit scale) and are
symmetric in their two arguments.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .inputs import MetricInputs
from .registry import register_metric

__all__ = ["psnr", "ssim", "structural_similarity"]

_PEAK = 255.0

# Wang et al. 2004 defaults (ssim_index.m): 11 x 11 Gaussian window, sigma 1.5; K = (0.01, 0.03).
_SSIM_RADIUS = 5
_SSIM_SIGMA = 1.5
_SSIM_K1, _SSIM_K2 = 0.01, 0.03


@register_metric(
    "PSNR",
    needs=("fused", "gt"),
    higher_is_better=True,
    range=(0, np.inf),
    reference="Peak signal-to-noise ratio, 10 log10(255^2 / MSE)",
)
def psnr(x: MetricInputs) -> float:
    """Peak signal-to-noise ratio in dB, ``10 log10(255^2 / MSE)`` with the mean squared
    error over all pixels on the [0, 255] scale (peak 255, also for 16-bit or float input,
    which is rescaled to that scale first). ``inf`` when the images are identical."""
    diff = x.fused - x.gt
    mse = float(np.mean(diff * diff))
    if mse == 0.0:
        return float("inf")
    return 10.0 * np.log10(_PEAK * _PEAK / mse)


def _gaussian_window_1d() -> np.ndarray:
    """1-D factor of ``fspecial('gaussian', 11, 1.5)`` (the 2-D window is its outer product;
    no tap is small enough for fspecial's eps cut-off)."""
    offsets = np.arange(-_SSIM_RADIUS, _SSIM_RADIUS + 1, dtype=np.float64)
    g = np.exp(-(offsets * offsets) / (2.0 * _SSIM_SIGMA * _SSIM_SIGMA))
    return g / g.sum()


def _filter_valid(image: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """``filter2(window, image, 'valid')`` for the separable Gaussian window."""
    smoothed = ndimage.correlate1d(image, taps, axis=0, mode="constant")
    smoothed = ndimage.correlate1d(smoothed, taps, axis=1, mode="constant")
    r = _SSIM_RADIUS
    return smoothed[r:-r, r:-r]


def structural_similarity(img1: np.ndarray, img2: np.ndarray, data_range: float = _PEAK) -> float:
    """Mean SSIM of Wang et al. 2004 as ``ssim_index.m`` computes it with its defaults.

    Local means, variances and covariance come from an 11 x 11 Gaussian window (sigma 1.5,
    normalised to sum 1) applied in MATLAB's ``'valid'`` mode: only positions where the whole
    window fits are scored, so the map is (H - 10) x (W - 10) and no border padding enters.
    Variances are population ones, E[x^2] - E[x]^2. With C1 = (0.01 L)^2, C2 = (0.03 L)^2:
    ``SSIM = (2 mu1 mu2 + C1)(2 s12 + C2) / ((mu1^2 + mu2^2 + C1)(s1^2 + s2^2 + C2))``,
    averaged over the map. Equals scikit-image's ``structural_similarity(...,
    gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=L)``, which
    also discards the 5-pixel border. Raises ``ValueError`` for images smaller than 11 x 11.
    """
    img1 = np.asarray(img1, dtype=np.float64)
    img2 = np.asarray(img2, dtype=np.float64)
    window = 2 * _SSIM_RADIUS + 1
    if img1.shape != img2.shape:
        raise ValueError(f"SSIM: image shapes differ ({img1.shape} vs {img2.shape})")
    if img1.ndim != 2 or min(img1.shape) < window:
        raise ValueError(
            f"SSIM needs 2-D images of at least {window}x{window} pixels (its Gaussian window), "
            f"got shape {img1.shape}"
        )
    c1 = (_SSIM_K1 * data_range) ** 2
    c2 = (_SSIM_K2 * data_range) ** 2
    taps = _gaussian_window_1d()
    mu1 = _filter_valid(img1, taps)
    mu2 = _filter_valid(img2, taps)
    mu1_sq = mu1 * mu1
    mu2_sq = mu2 * mu2
    mu1_mu2 = mu1 * mu2
    sigma1_sq = _filter_valid(img1 * img1, taps) - mu1_sq
    sigma2_sq = _filter_valid(img2 * img2, taps) - mu2_sq
    sigma12 = _filter_valid(img1 * img2, taps) - mu1_mu2
    ssim_map = ((2 * mu1_mu2 + c1) * (2 * sigma12 + c2)) / (
        (mu1_sq + mu2_sq + c1) * (sigma1_sq + sigma2_sq + c2)
    )
    return float(np.mean(ssim_map))


@register_metric(
    "SSIM",
    needs=("fused", "gt"),
    higher_is_better=True,
    range=(-1, 1),
    reference="Wang, Bovik, Sheikh & Simoncelli 2004 (structural similarity, IEEE TIP 13(4)); "
    "ssim_index.m defaults",
)
def ssim(x: MetricInputs) -> float:
    """Mean structural similarity of the fused image to the ground truth
    (:func:`structural_similarity`: 11 x 11 Gaussian window, sigma 1.5, K = (0.01, 0.03),
    L = 255, 'valid' region only). 1 for identical images; images must be at least 11 x 11."""
    return structural_similarity(x.fused, x.gt)
