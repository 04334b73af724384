"""VIFp: the pixel-domain visual information fidelity of Sheikh & Bovik, per source and summed.

H. R. Sheikh, A. C. Bovik, "Image information and visual quality", IEEE Transactions on Image
Processing 15(2):430-444, 2006. Reference code: ``vifp_mscale.m`` (LIVE, "multiscale pixel
domain, scalar GSM" derivative of the paper's wavelet-domain VIF). VIFp is a
single-reference image-quality measure: ``VIFp_A`` scores the fused image against source A
only. Fusion papers that copy the Python evaluator of CDDFuse report ``VIFp_A + VIFp_B``
under the name "VIF" or even "VIFF"; that sum is ``VIFp_sum`` here, and it is *not* the
VIFF of Han et al. (:mod:`fusionbench.metrics.viff`).
"""

from __future__ import annotations

import numpy as np

from ._matlab import fspecial_gaussian
from ._shared import correlate_separable
from .inputs import MetricInputs
from .registry import register_metric

__all__ = ["vifp_a", "vifp_b", "vifp_sum", "vifp_terms"]

_SIGMA_NSQ = 2.0  # HVS noise variance of vifp_mscale.m, for images on [0, 255]
_EPS = 1e-10
_WINDOW_SIZES = (17, 9, 5, 3)  # scale s = 1..4: fspecial('gaussian', N, N/5), N = 2^(5-s) + 1


def _window_1d(size: int) -> np.ndarray:
    return fspecial_gaussian((1, size), size / 5.0)[0]


def _pyramid(x: MetricInputs, role: str) -> list[np.ndarray]:
    """The image of ``role`` at scales 1..4: for s > 1 the previous scale filtered with the
    scale's window ('valid') and decimated by 2 (``ref(1:2:end, 1:2:end)``); shared by both
    sources' values for the fused image. Stops early when an image gets smaller than its
    window."""

    def compute() -> list[np.ndarray]:
        image = x.image(role)
        levels = [image]
        for size in _WINDOW_SIZES[1:]:
            if min(image.shape) < size:
                break
            window = _window_1d(size)
            image = correlate_separable(image, window, window, step=2)
            levels.append(image)
        return levels

    return x.cached(("vifp_pyramid", role), compute)


def vifp_terms(x: MetricInputs, role: str) -> tuple[float, float]:
    """(num, den) of ``vifp_mscale(S, F)`` for source ``role``; VIFp = num / den.

    Four scales; scale s uses the window ``fspecial('gaussian', N, N/5)``, N = 17, 9, 5, 3,
    and for s > 1 both images are first filtered with it ('valid') and decimated by 2. Local
    statistics over the window ('valid') give the gain g = s_SF / (s_S^2 + 1e-10) and the
    distortion variance sv^2 = s_F^2 - g s_SF, clamped as in ``vifp_mscale.m`` (negative
    variances -> 0; g = 0 where s_S^2 < 1e-10, s_F^2 < 1e-10 or g < 0; sv^2 >= 1e-10).
    num = sum log10(1 + g^2 s_S^2 / (sv^2 + 2)), den = sum log10(1 + s_S^2 / 2), both over all
    scales and pixels (HVS noise variance 2, for images on [0, 255]).
    """

    def compute() -> tuple[float, float]:
        sources, fused = _pyramid(x, role), _pyramid(x, "fused")
        num = den = 0.0
        for level, size in enumerate(_WINDOW_SIZES):
            if level >= len(sources) or min(sources[level].shape) < size:
                return float("nan"), float("nan")  # empty 'valid' maps: MATLAB errors or divides 0 by 0
            s, f = sources[level], fused[level]
            window = _window_1d(size)
            mu_s, mu_f, ss, ff, sf = correlate_separable(np.stack([s, f, s * s, f * f, s * f]), window, window)
            sigma_s = np.maximum(ss - mu_s * mu_s, 0.0)
            sigma_f = np.maximum(ff - mu_f * mu_f, 0.0)
            sigma_sf = sf - mu_s * mu_f
            g = sigma_sf / (sigma_s + _EPS)
            sv = np.maximum(sigma_f - g * sigma_sf, _EPS)
            # vifp_mscale's clamps: g = 0 where s_S^2 < eps, s_F^2 < eps or g < 0 (the VID term
            # is then log10(1) = 0 whatever sv^2); s_S^2 < eps counts as 0.
            informative = sigma_s >= _EPS
            g *= informative & (sigma_f >= _EPS) & (g > 0)
            sigma_s *= informative
            num += float(np.sum(np.log10(1.0 + g * g * sigma_s / (sv + _SIGMA_NSQ))))
            den += float(np.sum(np.log10(1.0 + sigma_s / _SIGMA_NSQ)))
        return num, den

    return x.cached(("vifp_terms", role), compute)


def _vifp(x: MetricInputs, role: str) -> float:
    num, den = vifp_terms(x, role)
    return float(np.float64(num) / np.float64(den))


@register_metric(
    "VIFp_A",
    needs=("a", "fused"),
    higher_is_better=True,
    range=(0, np.inf),
    reference="Sheikh & Bovik 2006, IEEE TIP 15(2); LIVE vifp_mscale.m (A as reference)",
)
def vifp_a(x: MetricInputs) -> float:
    """Pixel-domain VIF of the fused image against source A, ``vifp_mscale(A, F)``
    (:func:`vifp_terms`). 1 when F equals A; above 1 when F has more local contrast than A.
    NaN when A is constant (0 / 0; CDDFuse's evaluator replaces that NaN by 1) or when an
    image has fewer than 41 rows or columns (a scale's 'valid' map is empty)."""
    return _vifp(x, "a")


@register_metric(
    "VIFp_B",
    needs=("b", "fused"),
    higher_is_better=True,
    range=(0, np.inf),
    reference="Sheikh & Bovik 2006, IEEE TIP 15(2); LIVE vifp_mscale.m (B as reference)",
)
def vifp_b(x: MetricInputs) -> float:
    """Pixel-domain VIF of the fused image against source B, ``vifp_mscale(B, F)``; as
    ``VIFp_A`` with B as the reference."""
    return _vifp(x, "b")


@register_metric(
    "VIFp_sum",
    needs=("a", "b", "fused"),
    higher_is_better=True,
    range=(0, np.inf),
    reference="Sheikh & Bovik 2006, IEEE TIP 15(2); vifp_mscale(A, F) + vifp_mscale(B, F)",
)
def vifp_sum(x: MetricInputs) -> float:
    """VIFp_A + VIFp_B: the "VIF" (sometimes mislabelled "VIFF") of the deep-fusion papers
    that copy CDDFuse's evaluator; 2 when the fused image equals both sources. Not Han et
    al.'s VIFF. NaN when either term is NaN (a constant source)."""
    return _vifp(x, "a") + _vifp(x, "b")
