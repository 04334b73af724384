"""Chen & Varshney's human-perception-based fusion metric, Qcv (lower is better).

Definition as in the MATLAB file of Liu et al.'s MFIF-Metrics (``fusion-metrics/metricChen.m``),
the reference code of the golden values:

1. Each image is rescaled to integer levels 0..255 (``normalize1.m``: ``round((x - min) /
   (max - min) * 255)``; an all-zero image is kept, any other constant image gives NaN).
2. Saliency of each source per 16 x 16 block: ``lambda = sum over the block of G^5``, G the Sobel
   gradient magnitude (``filter2`` 'same', zero outside the image).
3. The differences ``a - f`` and ``b - f`` are filtered in the frequency domain with the
   Mannos-Sakrison contrast sensitivity function ``2.6 (0.0192 + 0.144 r) exp(-(0.144 r)^1.1)``,
   ``r`` the radial frequency of ``freqspace`` scaled by ``(cols / 8, rows / 8)``; D = mean of the
   squared filtered difference per block.
4. ``Qcv = sum(lambda_a D_a + lambda_b D_b) / sum(lambda_a + lambda_b)``.

Blocks follow MATLAB's ``blkproc``: the image is zero-padded at the bottom and right to a multiple
of 16, and the block mean divides by 256 also for padded border blocks. The reference returns
``ifft2``'s complex result; the golden value is its real part, which is what is computed here
(the filter is symmetric, so the imaginary part is rounding noise).

Reference: H. Chen, P. K. Varshney, "A human perception inspired quality metric for image
fusion based on regional information", Information Fusion 8 (2007) 193-207.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft

from ._matlab import blocks, freqspace
from ._shared import parallel_map, thread_count
from .information import normalize_to_256_levels
from .inputs import MetricInputs
from .registry import register_metric

__all__ = ["qcv", "csf_mannos_sakrison"]

_BLOCK = 16
_ALPHA = 5  # exponent of the saliency, "alpha = 5" in metricChen.m


def _sobel_magnitude(image: np.ndarray) -> np.ndarray:
    """``sqrt(gx^2 + gy^2)`` with ``filter2([-1 0 1; -2 0 2; -1 0 1], I, 'same')`` and its
    transpose, zero outside the image."""
    padded = np.pad(image, 1)
    smooth_rows = padded[:-2] + 2 * padded[1:-1] + padded[2:]  # (H, W + 2)
    smooth_cols = padded[:, :-2] + 2 * padded[:, 1:-1] + padded[:, 2:]  # (H + 2, W)
    gx = smooth_rows[:, 2:] - smooth_rows[:, :-2]
    gy = smooth_cols[2:] - smooth_cols[:-2]
    return np.sqrt(gx * gx + gy * gy)


@lru_cache(maxsize=8)
def csf_mannos_sakrison(shape: tuple[int, int]) -> np.ndarray:
    """The contrast sensitivity filter of ``metricChen.m`` with zero frequency at [0, 0]
    (``ifftshift`` of the centred filter), for an image of ``shape``; cached per size, read-only."""
    rows, cols = shape
    f_cols, f_rows = freqspace(shape)
    u = cols / 8 * f_cols
    v = rows / 8 * f_rows
    r = np.sqrt(u[np.newaxis, :] ** 2 + v[:, np.newaxis] ** 2)
    theta = 2.6 * (0.0192 + 0.144 * r) * np.exp(-((0.144 * r) ** 1.1))
    csf = np.fft.ifftshift(theta)
    csf.flags.writeable = False
    return csf


def _block_saliency(image: np.ndarray) -> np.ndarray:
    """Per block, the sum of the Sobel gradient magnitude to the power alpha."""
    return np.sum(blocks(_sobel_magnitude(image) ** _ALPHA, _BLOCK), axis=(1, 3))


def _filtered_block_power(differences: np.ndarray, csf: np.ndarray) -> np.ndarray:
    """Per image of the stack and block, the mean of the squared CSF-filtered difference (real
    part of ``ifft2(fft2(d) .* csf)``; the filter is real and symmetric, so real transforms
    suffice)."""
    shape = differences.shape[-2:]
    half = csf[:, : shape[1] // 2 + 1]
    spectra = scipy.fft.rfft2(differences, workers=thread_count())
    filtered = scipy.fft.irfft2(spectra * half, s=shape, workers=thread_count())
    return np.stack([np.sum(blocks(f * f, _BLOCK), axis=(1, 3)) for f in filtered]) / (_BLOCK * _BLOCK)


@register_metric(
    "Qcv",
    aliases=["QCV"],
    needs=("a", "b", "fused"),
    higher_is_better=False,
    range=(0, np.inf),
    reference="Chen & Varshney 2007 (human-perception-based metric); MFIF-Metrics metricChen.m",
)
def qcv(x: MetricInputs) -> float:
    """Chen-Varshney metric: saliency-weighted mean of the CSF-filtered squared difference
    between each source and the fused image, over 16x16 blocks (``real(metricChen(A, B, F))``).

    Lower is better; 0 when the fused image equals both (rescaled) sources. NaN when an image
    is constant and non-zero (as the reference) or when both sources are all zero. H. Chen, P. K.
    Varshney, Information Fusion 8 (2007) 193-207."""
    # Shared with MI and NCIE, which rescale the same way (normalize1.m).
    rescaled = [
        x.cached(("normalize1", role), lambda role=role: normalize_to_256_levels(x.image(role)))
        for role in ("a", "b", "fused")
    ]
    if any(image is None for image in rescaled):
        return float("nan")
    a, b, fused = rescaled
    csf = csf_mannos_sakrison(a.shape)
    saliency_a, saliency_b = parallel_map(_block_saliency, [a, b])
    power_a, power_b = _filtered_block_power(np.stack([a - fused, b - fused]), csf)
    return float(np.sum(saliency_a * power_a + saliency_b * power_b) / np.sum(saliency_a + saliency_b))
