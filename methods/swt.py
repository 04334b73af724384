"""Stationary (undecimated) wavelet transform fusion (the shift-invariant variant of DWT
fusion; G. P. Nason & B. W. Silverman, "The stationary wavelet transform and some statistical
applications", Lecture Notes in Statistics 103, 1995; used for image fusion e.g. by
O. Rockinger, "Image sequence fusion using a shift-invariant wavelet transform", ICIP 1997).

Both sources are decomposed by the 2-D SWT; the approximation is averaged and every detail
coefficient chosen by max-abs; the inverse SWT reconstructs. The transform is the one of
``pywt.swt2`` (same filters, periodic extension and alignment; ``tests/test_methods_transforms.py``
checks the coefficients against it) computed here with separable ``scipy.ndimage`` filters:
level j filters with the wavelet's filters dilated by 2**(j-1) ("a trous"). The inverse is
``a_{j-1} = 1/4 * sum over the 4 subbands of the dilated synthesis filters`` (the average of
all the decimated reconstructions, as ``pywt.iswt2``), without PyWavelets' restriction to sides
divisible by 2**levels. Parameters: ``wavelet`` (a PyWavelets discrete wavelet, default
``"db2"``), ``levels`` (default 3). Fusing an image with itself returns it.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pywt
from scipy import ndimage

from fusionbench.registry import FusionMethod, register_method

from ._pyramid import select_max_abs
from .dwt import check_wavelet

__all__ = ["SWTFusion", "swt2", "iswt2"]


def _dilated_filter(x: np.ndarray, taps: np.ndarray, step: int, shift: int, axis: int) -> np.ndarray:
    """``y[i] = sum_k taps[k] * x[(i + step * (shift - k)) mod n]`` along ``axis``; the offsets
    must include 0 (true for the analysis and synthesis alignments used here)."""
    n = x.shape[axis]
    if step > 1 and n % step == 0:
        # The dilated filter never mixes the `step` interleaved sub-sequences, and with n a
        # multiple of step each wraps around onto itself: filter them with the plain taps.
        shape = x.shape[:axis] + (n // step, step) + x.shape[axis + 1 :]
        return _dilated_filter(x.reshape(shape), taps, 1, shift, axis).reshape(x.shape)
    offsets = step * (shift - np.arange(len(taps)))
    low, high = min(offsets.min(), 0), max(offsets.max(), 0)
    weights = np.zeros(high - low + 1)
    weights[offsets - low] = taps
    # ndimage: y[i] = sum_j w[j] x[i + j - (len(w) // 2 + origin)]; we need j - c = offset.
    origin = -low - len(weights) // 2
    return ndimage.correlate1d(x, weights, axis=axis, mode="wrap", origin=origin)


def swt2(image: np.ndarray, wavelet: str, levels: int) -> list:
    """``[cA_n, (cH_n, cV_n, cD_n), ..., (cH_1, cV_1, cD_1)]`` as ``pywt.swt2(...,
    trim_approx=True, norm=False)``, for any image size (periodic extension)."""
    w = pywt.Wavelet(wavelet)
    lo, hi = np.asarray(w.dec_lo), np.asarray(w.dec_hi)
    half = len(lo) // 2
    approx, details = image, []
    for level in range(levels):
        step = 2**level
        rows_lo = _dilated_filter(approx, lo, step, half, 0)
        rows_hi = _dilated_filter(approx, hi, step, half, 0)
        approx = _dilated_filter(rows_lo, lo, step, half, 1)
        details.append(
            (
                _dilated_filter(rows_hi, lo, step, half, 1),
                _dilated_filter(rows_lo, hi, step, half, 1),
                _dilated_filter(rows_hi, hi, step, half, 1),
            )
        )
    return [approx] + details[::-1]


def iswt2(coeffs: list, wavelet: str) -> np.ndarray:
    """Inverse of :func:`swt2`."""
    w = pywt.Wavelet(wavelet)
    lo, hi = np.asarray(w.rec_lo), np.asarray(w.rec_hi)
    shift = len(lo) // 2 - 1  # synthesis alignment: the adjoint of the analysis offsets
    approx = coeffs[0]
    for level, (horizontal, vertical, diagonal) in zip(range(len(coeffs) - 2, -1, -1), coeffs[1:]):
        step = 2**level
        rows_lo = _dilated_filter(approx, lo, step, shift, 1) + _dilated_filter(vertical, hi, step, shift, 1)
        rows_hi = _dilated_filter(horizontal, lo, step, shift, 1) + _dilated_filter(diagonal, hi, step, shift, 1)
        approx = _dilated_filter(rows_lo, lo, step, shift, 0) + _dilated_filter(rows_hi, hi, step, shift, 0)
        approx *= approx.dtype.type(0.25)
    return approx


@register_method("swt", family="multi-scale", reference="Nason & Silverman 1995 (SWT); Rockinger, ICIP 1997 (SWT fusion)")
class SWTFusion(FusionMethod):
    """SWT: average the approximation, max-abs the details, no decimation (shift-invariant)."""

    clip_output: ClassVar[bool] = True  # reconstruction overshoots [0, 1]; the authors save 8-bit

    wavelet: str = "db2"
    levels: int = 3

    def __post_init__(self) -> None:
        check_wavelet("swt", self.wavelet, self.levels, "symmetric")

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ca, cb = swt2(a, self.wavelet, self.levels), swt2(b, self.wavelet, self.levels)
        fused = [(ca[0] + cb[0]) * ca[0].dtype.type(0.5)]
        for da, db in zip(ca[1:], cb[1:]):
            fused.append(tuple(select_max_abs(x, y) for x, y in zip(da, db)))
        return iswt2(fused, self.wavelet)
