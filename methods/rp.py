"""Ratio-of-low-pass pyramid fusion (A. Toet, "Image fusion by a ratio of low-pass pyramid",
Pattern Recognition Letters 9(4):245-253, 1989).

Each source (offset by ``offset`` so that no ratio divides by zero) becomes a Gaussian pyramid
(kernel ``[1 4 6 4 1]/16``) and its ratio levels ``R_k = G_k / EXPAND(G_{k+1})``, a local
luminance contrast ``R - 1``. Fusion: at each position the ratio with the larger contrast
``|R - 1|`` is chosen, the coarsest Gaussian level is averaged; the fused pyramid is
collapsed by ``G_k = R_k * EXPAND(G_{k+1})`` and the offset removed. Parameters: ``levels``
(default 4), ``offset`` (default 0.01, on the [0, 1] scale: keeps the contrast of black
regions finite).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from fusionbench.registry import FusionMethod, register_method

from ._pyramid import gaussian_expand, gaussian_reduce, pyramid_depth
from .lp import check_levels


def ratio_pyramid(image: np.ndarray, depth: int) -> list[np.ndarray]:
    """``[R_0, ..., R_{depth-1}, G_depth]`` of a strictly positive image."""
    pyramid, current = [], image
    for _ in range(depth):
        smaller = gaussian_reduce(current)
        pyramid.append(current / gaussian_expand(smaller, current.shape))
        current = smaller
    pyramid.append(current)
    return pyramid


def collapse_ratio(pyramid: list[np.ndarray]) -> np.ndarray:
    image = pyramid[-1]
    for ratio in reversed(pyramid[:-1]):
        image = ratio * gaussian_expand(image, ratio.shape)
    return image


@register_method("rp", family="multi-scale", reference="Toet, Pattern Recognit. Lett. 9(4), 1989")
class RatioPyramidFusion(FusionMethod):
    """RP: the ratio with the larger |R - 1| contrast, averaged top level."""

    clip_output: ClassVar[bool] = True  # reconstruction overshoots [0, 1]; the authors save 8-bit

    levels: int = 4
    offset: float = 0.01

    def __post_init__(self) -> None:
        check_levels("rp", self.levels)
        if not self.offset > 0:
            raise ValueError(f"rp: offset must be > 0 (it keeps the ratios finite), got {self.offset!r}")

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        depth = pyramid_depth(a.shape, self.levels)
        offset = np.float32(self.offset)
        pa, pb = ratio_pyramid(a + offset, depth), ratio_pyramid(b + offset, depth)
        one = np.float32(1)
        fused = [np.where(np.abs(x - one) >= np.abs(y - one), x, y) for x, y in zip(pa[:-1], pb[:-1])]
        fused.append((pa[-1] + pb[-1]) * np.float32(0.5))
        return collapse_ratio(fused) - offset
