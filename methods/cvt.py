"""Curvelet-transform (CVT) fusion.

Nencini, Garzelli, Baronti & Alparone, "Remote sensing image fusion using the curvelet
transform", Information Fusion 8(2), 2007, in the form multi-focus comparisons use (e.g. Liu,
Liu & Wang's MST toolbox, Information Fusion 24, 2015; the UFA-Fuse paper's CVT row): decompose
both sources with the fast discrete curvelet transform (wrapping, Candès et al. 2006), average
the coarsest (lowpass) coefficients, keep the coefficient of larger magnitude in every other
band, and invert. The transform is :mod:`fusionbench.methods._curvelet` (real images, complex
curvelet coefficients on the half plane; "larger magnitude" compares complex moduli, which
treats the cosine- and sine-phase curvelets of CurveLab's real transform as one pair).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from fusionbench.registry import FusionMethod, register_method

from ._curvelet import CurveletTransform, default_n_scales


def fuse_max_abs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per coefficient, the one of ``a`` and ``b`` with the larger magnitude (``a`` on ties)."""
    return np.where(np.abs(a) >= np.abs(b), a, b)


@register_method(
    "cvt",
    family="transform",
    reference="Nencini et al., Information Fusion 2007 (curvelet fusion); Candès et al., MMS 2006 (FDCT via wrapping)",
)
class CurveletFusion(FusionMethod):
    """Curvelet fusion: lowpass averaged, curvelet and finest (wavelet) bands max-abs.

    Parameters
    ----------
    n_scales : number of curvelet scales including the coarsest lowpass and the finest band;
        ``None`` (default) = CurveLab's ``ceil(log2(min(H, W)) - 3)`` (7 for 520x520).
    n_angles_coarse : angles at the coarsest curvelet scale (multiple of 4; default 16).
    """

    clip_output: ClassVar[bool] = True  # reconstruction overshoots [0, 1]; the authors save 8-bit

    n_scales: int | None = None
    n_angles_coarse: int = 16

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        n_scales = default_n_scales(a.shape) if self.n_scales is None else self.n_scales
        transform = CurveletTransform(a.shape, n_scales, self.n_angles_coarse)
        ca, cb = transform.forward(a), transform.forward(b)
        fused = [[(ca[0][0] + cb[0][0]) * 0.5]]
        fused += [[fuse_max_abs(x, y) for x, y in zip(sa, sb)] for sa, sb in zip(ca[1:], cb[1:])]
        return transform.inverse(fused)
