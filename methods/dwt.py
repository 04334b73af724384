"""Discrete wavelet transform fusion (H. Li, B. S. Manjunath, S. K. Mitra, "Multisensor image
fusion using the wavelet transform", Graphical Models and Image Processing 57(3):235-245, 1995).

Both sources are decomposed with ``pywt.wavedec2``; the approximation band is averaged and
every detail coefficient is chosen by max-abs (the pixel-based form of the paper's activity
rule); ``pywt.waverec2`` reconstructs. Parameters: ``wavelet`` (any PyWavelets discrete
wavelet name, default ``"db2"``), ``levels`` (default 3; reduced to what the image size
allows, :func:`pywt.dwt_max_level`), ``mode`` (signal extension, default ``"symmetric"``,
MATLAB's ``dwtmode('sym')``). Fusing an image with itself returns it (perfect reconstruction).
"""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
import pywt

from fusionbench.registry import FusionMethod, register_method

from ._pyramid import select_max_abs


def check_wavelet(method: str, wavelet: str, levels: int, mode: str) -> None:
    """Clear errors for bad wavelet parameters (shared by dwt and swt)."""
    if wavelet not in pywt.wavelist(kind="discrete"):
        raise ValueError(f"{method}: unknown wavelet {wavelet!r}; use a discrete PyWavelets name, e.g. 'db2', 'sym4', 'bior2.2'")
    if not isinstance(levels, (int, np.integer)) or levels < 1:
        raise ValueError(f"{method}: levels must be an integer >= 1, got {levels!r}")
    if mode not in pywt.Modes.modes:
        raise ValueError(f"{method}: unknown extension mode {mode!r}; one of {pywt.Modes.modes}")


@register_method("dwt", family="multi-scale", reference="Li, Manjunath & Mitra, Graph. Models Image Process. 57(3), 1995")
class DWTFusion(FusionMethod):
    """DWT: average the approximation, max-abs the details."""

    clip_output: ClassVar[bool] = True  # reconstruction overshoots [0, 1]; the authors save 8-bit

    wavelet: str = "db2"
    levels: int = 3
    mode: str = "symmetric"

    def __post_init__(self) -> None:
        check_wavelet("dwt", self.wavelet, self.levels, self.mode)

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        wavelet = pywt.Wavelet(self.wavelet)
        levels = max(1, min(self.levels, pywt.dwt_max_level(min(a.shape), wavelet.dec_len)))
        with warnings.catch_warnings():
            # Images shorter than the filter still get one (exactly invertible) level.
            warnings.filterwarnings("ignore", message="Level value of 1 is too high", category=UserWarning)
            ca = pywt.wavedec2(a, wavelet, mode=self.mode, level=levels)
            cb = pywt.wavedec2(b, wavelet, mode=self.mode, level=levels)
        fused = [(ca[0] + cb[0]) * np.float32(0.5)]
        for da, db in zip(ca[1:], cb[1:]):
            fused.append(tuple(select_max_abs(x, y) for x, y in zip(da, db)))
        out = pywt.waverec2(fused, wavelet, mode=self.mode)
        return out[: a.shape[0], : a.shape[1]]
