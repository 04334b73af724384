"""Stationary (undecimated) wavelet transform fusion (the shift-invariant variant of DWT
fusion; G. P. Nason & B. W. Silverman, "The stationary wavelet transform and some statistical
applications", 1995; used for fusion e.g. by O. Rockinger, ICIP 1997).

``pywt.swt2`` of both sources (energy-normalised, ``norm=True``), approximation averaged,
details chosen by max-abs, ``pywt.iswt2`` back. The SWT needs sides divisible by
``2**levels``, so the images are padded symmetrically first and the result is cropped.
Parameters: ``wavelet`` (default ``"db2"``), ``levels`` (default 3; reduced for small images).
"""

from __future__ import annotations

import numpy as np
import pywt

from fusionbench.registry import FusionMethod, register_method

from ._pyramid import select_max_abs
from .dwt import check_wavelet


@register_method("swt", family="multi-scale", reference="Nason & Silverman 1995 (SWT); Rockinger, ICIP 1997 (SWT fusion)")
class SWTFusion(FusionMethod):
    """SWT: average the approximation, max-abs the details, no decimation (shift-invariant)."""

    wavelet: str = "db2"
    levels: int = 3

    def __post_init__(self) -> None:
        check_wavelet("swt", self.wavelet, self.levels, "symmetric")

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        h, w = a.shape
        levels = max(1, min(self.levels, int(np.log2(min(h, w)))))
        step = 2**levels
        pad = ((0, -h % step), (0, -w % step))
        ca = pywt.swt2(np.pad(a, pad, mode="symmetric"), self.wavelet, levels, trim_approx=True, norm=True)
        cb = pywt.swt2(np.pad(b, pad, mode="symmetric"), self.wavelet, levels, trim_approx=True, norm=True)
        fused = [(ca[0] + cb[0]) * np.float32(0.5)]
        for da, db in zip(ca[1:], cb[1:]):
            fused.append(tuple(select_max_abs(x, y) for x, y in zip(da, db)))
        return pywt.iswt2(fused, self.wavelet, norm=True)[:h, :w]
