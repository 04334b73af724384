"""Qc: the Chen-Blum human-perception metric (Chen & Blum 2009).

Y. Chen, R. S. Blum, "A new automated quality assessment algorithm for image fusion", Image
and Vision Computing 27(10):1421-1432, 2009. Reference code: ``metricChenBlum.m`` (Z. Liu
2009, in MFIF-Metrics, whose readme calls it QCB), the source of the golden values.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft

from ._matlab import freqspace
from ._shared import correlate_separable, map_row_blocks, normalize1, thread_count
from .inputs import MetricInputs
from .registry import register_metric

__all__ = ["qc"]

# Contrast sensitivity function (difference of Gaussians, the paper's "DoG1" setting).
_F0, _F1, _A = 15.3870, 1.3456, 0.7622
_CSF_SCALE = 30.0  # frequencies scaled by rows / 30 and columns / 30
# Local contrast: Gaussians sigma 2 and 4 on a 31 x 31 grid (not normalised to sum 1);
# masking k C^p / (h C^q + Z) with k = h = 1, p = 3, q = 2 (written out in _mask).
_SIGMA_NUM, _SIGMA_DEN, _HALF_WIDTH = 2.0, 4.0, 15
_Z = 0.0001


@lru_cache(maxsize=8)
def csf_response(shape: tuple[int, int]) -> np.ndarray:
    """The reference's CSF ``Sd`` on the ``rfft2`` grid of an image of ``shape`` (read-only,
    memoised per shape).

    ``[u, v] = freqspace(shape, 'meshgrid')`` scaled by cols/30 and rows/30,
    ``Sd = exp(-(r/f0)^2) - a exp(-(r/f1)^2)``, moved from the centred (``fftshift``) layout
    to the FFT layout (``ifftshift``); even and odd sizes alike.
    """
    rows, cols = shape
    f_cols, f_rows = freqspace(shape)
    u = np.fft.ifftshift(f_cols * (cols / _CSF_SCALE))[: cols // 2 + 1]
    v = np.fft.ifftshift(f_rows * (rows / _CSF_SCALE))
    r = np.sqrt(u[np.newaxis, :] ** 2 + v[:, np.newaxis] ** 2)
    response = np.exp(-((r / _F0) ** 2)) - _A * np.exp(-((r / _F1) ** 2))
    response.flags.writeable = False
    return response


def _gaussian_factor(sigma: float) -> tuple[np.ndarray, float]:
    """``gaussian2d`` of the reference, exp(-(x^2 + y^2) / (2 sigma^2)) / (2 pi sigma^2) on
    -15..15, as its 1-D factor and the constant."""
    t = np.arange(-_HALF_WIDTH, _HALF_WIDTH + 1, dtype=np.float64)
    return np.exp(-(t * t) / (2.0 * sigma * sigma)), 1.0 / (2.0 * np.pi * sigma * sigma)


def _mask(c: np.ndarray) -> np.ndarray:
    """C^3 / (C^2 + 1e-4), in place on the contrast C."""
    c_sq = c * c
    c *= c_sq
    c_sq += _Z
    c /= c_sq
    return c


def _block_quality(numerator: np.ndarray, denominator: np.ndarray) -> tuple[float, bool]:
    """sum(lambda_A Q_AF + lambda_B Q_BF) over a block of pixels, from the Gaussian-filtered
    (A, B, F) stacks, and whether a masked contrast is exactly 0 there."""
    contrast = numerator / denominator
    contrast -= 1.0
    np.abs(contrast, out=contrast)
    c_a, c_b, c_f = _mask(contrast)
    has_zero = not (np.all(c_a) and np.all(c_b) and np.all(c_f))
    # Q_SF = C_S / C_F where C_S < C_F, else C_F / C_S, i.e. min / max.
    q_af = np.minimum(c_a, c_f)
    q_af /= np.maximum(c_a, c_f)
    q_bf = np.minimum(c_b, c_f)
    q_bf /= np.maximum(c_b, c_f)
    sal_a = c_a * c_a
    sal_b = c_b * c_b
    q_af *= sal_a
    q_bf *= sal_b
    q_af += q_bf
    sal_a += sal_b
    q_af /= sal_a
    return float(np.sum(q_af)), has_zero


def qc_value(a: np.ndarray, b: np.ndarray, fused: np.ndarray) -> float:
    """Chen-Blum Q of gray float64 images (already ``normalize1``-ed; see :func:`qc`)."""
    shape = fused.shape
    spectra = scipy.fft.rfft2(np.stack([a, b, fused]), workers=thread_count())
    spectra *= csf_response(shape)
    filtered = scipy.fft.irfft2(spectra, s=shape, workers=thread_count())
    # filter2(G, I, 'same') with zero padding = 'valid' filtering of the zero-padded image.
    pad = _HALF_WIDTH
    padded = np.zeros((3, shape[0] + 2 * pad, shape[1] + 2 * pad))
    padded[:, pad:-pad, pad:-pad] = filtered
    g_num, c_num = _gaussian_factor(_SIGMA_NUM)
    g_den, c_den = _gaussian_factor(_SIGMA_DEN)
    numerator = correlate_separable(padded, g_num, g_num)
    numerator *= c_num
    denominator = correlate_separable(padded, g_den, g_den)
    denominator *= c_den
    blocks = map_row_blocks(_block_quality, numerator, denominator)
    if any(has_zero for _, has_zero in blocks):
        # The reference multiplies the unused ratio by 0, which is NaN where it is 0/0 or x/0.
        return float("nan")
    return float(sum(total for total, _ in blocks) / fused.size)


@register_metric(
    "Qc",
    aliases=["QCB"],
    needs=("a", "b", "fused"),
    higher_is_better=True,
    range=(0, 1),
    reference="Chen & Blum 2009, Image and Vision Computing 27(10); MFIF-Metrics metricChenBlum.m",
)
def qc(x: MetricInputs) -> float:
    """Chen-Blum perceptual quality (Chen & Blum 2009), ``metricChenBlum(A, B, F)``.

    Each image is first stretched by ``normalize1`` (``round((I - min) / (max - min) * 255)``),
    then filtered in the frequency domain by the contrast sensitivity function
    S(r) = exp(-(r/15.3870)^2) - 0.7622 exp(-(r/1.3456)^2), r the ``freqspace`` radius with
    frequencies scaled by rows/30 and cols/30 (circular: ``ifft2(fft2(I) .* ifftshift(S))``).
    Local contrast C = |G_2 * I / G_4 * I - 1| with unnormalised 31 x 31 Gaussians of sigma
    2 and 4 (``filter2 'same'``, zero padding), masked as C' = C^3 / (C^2 + 1e-4).
    Q_SF = min(C'_S, C'_F) / max(C'_S, C'_F); saliency weights lambda_S = C'_S^2 / (C'_A^2 +
    C'_B^2); Qc = mean over all pixels of lambda_A Q_AF + lambda_B Q_BF. Range [0, 1];
    1 when the fused image equals both sources. NaN when an image is constant and non-zero
    (``normalize1`` divides 0 by 0), and, as in the reference, when a masked contrast is
    exactly 0 somewhere (its ratios are 0/0 or x/0 there), e.g. for three identical
    constant images.

    Exactness: the CSF filtering is an FFT, so its result carries rounding of ~1e-13 (here
    pocketfft, in the reference FFTW). Where both local means are near 0, as in the black
    background of CT/MRI images, C = G_2 * I / G_4 * I - 1 amplifies that rounding, and the
    value matches the reference to ~1e-7 relative there (6e-8 on the golden CT/MRI cases;
    ~1e-15 on the others).
    """
    return qc_value(normalize1(x, "a"), normalize1(x, "b"), normalize1(x, "fused"))
