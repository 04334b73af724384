"""Nonsubsampled contourlet transform (NSCT) fusion.

Zhang & Guo, "Multifocus image fusion using the nonsubsampled contourlet transform", Signal
Processing 89(7), 2009, in the basic form multi-focus comparisons use (e.g. Liu, Liu & Wang's
MST toolbox, Information Fusion 24, 2015; the UFA-Fuse paper's NSCT row): decompose both sources with the NSCT (Cunha, Zhou &
Do 2006; :mod:`fusionbench.methods._nsct`, the toolbox's ``'pyrexc'`` pyramid and
``'dmaxflat7'`` directional filters), average the lowpass subband, keep the coefficient of
larger absolute value in every directional subband, and invert.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from fusionbench.registry import FusionMethod, register_method

from ._nsct import NSCTransform
from .cvt import fuse_max_abs


@register_method(
    "nsct",
    family="transform",
    reference="Zhang & Guo, Signal Processing 2009 (NSCT fusion); Cunha, Zhou & Do, IEEE TIP 2006 (NSCT)",
)
class NSCTFusion(FusionMethod):
    """NSCT fusion: lowpass averaged, directional subbands max-abs.

    Parameters
    ----------
    levels : directional levels per pyramid level, coarsest first (the toolbox's ``nlevs``);
        default ``(2, 3, 3, 4)``: four pyramid levels with 4, 8, 8 and 16 directions.
    pad : pixels of symmetric extension around the image before the periodic filtering.
    """

    clip_output: ClassVar[bool] = True  # reconstruction overshoots [0, 1]; the authors save 8-bit

    levels: tuple[int, ...] = (2, 3, 3, 4)
    pad: int = 32

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        transform = NSCTransform(a.shape, tuple(self.levels), self.pad)
        ca, cb = transform.forward(a), transform.forward(b)
        fused = [(ca[0] + cb[0]) * 0.5]
        fused += [[fuse_max_abs(x, y) for x, y in zip(sa, sb)] for sa, sb in zip(ca[1:], cb[1:])]
        return transform.inverse(fused)
