"""Morphological-pyramid fusion (A. Toet, "A morphological pyramidal image decomposition",
Pattern Recognition Letters 9(4):255-261, 1989; fusion as in G. K. Matsopoulos, S. Marshall &
J. N. H. Brunt, "Multiresolution morphological fusion of MR and CT images of the human brain",
IEE Proc. Vision, Image and Signal Processing 141(3):137-142, 1994).

Each level is low-passed by a morphological open-close filter (``size`` x ``size`` square)
and subsampled by 2; the difference levels are ``D_k = G_k - EXPAND(G_{k+1})`` with EXPAND by
pixel replication, so the pyramid is exactly invertible. Fusion: max-abs on the difference
levels, average of the coarsest level. Parameters: ``levels`` (default 4), ``size`` (default 3).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from fusionbench.registry import FusionMethod, register_method

from ._pyramid import morphological_reduce, pyramid_depth, replicate_expand, select_max_abs
from .lp import check_levels


def morphological_pyramid(image: np.ndarray, depth: int, size: int) -> list[np.ndarray]:
    """``[D_0, ..., D_{depth-1}, G_depth]``."""
    pyramid, current = [], image
    for _ in range(depth):
        smaller = morphological_reduce(current, size)
        pyramid.append(current - replicate_expand(smaller, current.shape))
        current = smaller
    pyramid.append(current)
    return pyramid


@register_method("mp", family="multi-scale", reference="Toet, Pattern Recognit. Lett. 9(4), 1989; Matsopoulos et al., IEE Proc. VISP 1994")
class MorphologicalPyramidFusion(FusionMethod):
    """MP: max-abs difference levels, averaged top level."""

    clip_output: ClassVar[bool] = True  # reconstruction overshoots [0, 1]; the authors save 8-bit

    levels: int = 4
    size: int = 3

    def __post_init__(self) -> None:
        check_levels("mp", self.levels)
        if not isinstance(self.size, (int, np.integer)) or self.size < 2:
            raise ValueError(f"mp: size (structuring element side) must be an integer >= 2, got {self.size!r}")

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        depth = pyramid_depth(a.shape, self.levels)
        pa, pb = morphological_pyramid(a, depth, self.size), morphological_pyramid(b, depth, self.size)
        image = (pa[-1] + pb[-1]) * np.float32(0.5)
        for da, db in zip(reversed(pa[:-1]), reversed(pb[:-1])):
            image = select_max_abs(da, db) + replicate_expand(image, da.shape)
        return image
