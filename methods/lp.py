"""Laplacian-pyramid fusion (P. J. Burt & E. H. Adelson, "The Laplacian pyramid as a compact
image code", IEEE Trans. Commun. 31(4):532-540, 1983; fusion rule of P. J. Burt &
R. J. Kolczynski, "Enhanced image capture through fusion", ICCV 1993, in its pixel form).

Each source becomes a Gaussian pyramid (5-tap kernel ``[1 4 6 4 1]/16``, see
:mod:`fusionbench.methods._pyramid`) and its Laplacian levels ``L_k = G_k - EXPAND(G_{k+1})``.
Fusion: the Laplacian coefficients are chosen by max-abs, the coarsest Gaussian level is
averaged; the fused pyramid is collapsed. Parameter: ``levels`` (default 4; reduced so the
coarsest level keeps at least 2 x 2 pixels).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from fusionbench.registry import FusionMethod, register_method

from ._pyramid import gaussian_expand, gaussian_reduce, pyramid_depth, select_max_abs


def check_levels(method: str, levels: object) -> None:
    if not isinstance(levels, (int, np.integer)) or levels < 1:
        raise ValueError(f"{method}: levels must be an integer >= 1, got {levels!r}")


def laplacian_pyramid(image: np.ndarray, depth: int) -> list[np.ndarray]:
    """``[L_0, ..., L_{depth-1}, G_depth]``; :func:`collapse_laplacian` inverts it exactly."""
    pyramid, current = [], image
    for _ in range(depth):
        smaller = gaussian_reduce(current)
        pyramid.append(current - gaussian_expand(smaller, current.shape))
        current = smaller
    pyramid.append(current)
    return pyramid


def collapse_laplacian(pyramid: list[np.ndarray]) -> np.ndarray:
    image = pyramid[-1]
    for detail in reversed(pyramid[:-1]):
        image = detail + gaussian_expand(image, detail.shape)
    return image


@register_method("lp", family="multi-scale", reference="Burt & Adelson, IEEE Trans. Commun. 1983; Burt & Kolczynski, ICCV 1993")
class LaplacianPyramidFusion(FusionMethod):
    """LP: max-abs Laplacian coefficients, averaged top level."""

    clip_output: ClassVar[bool] = True  # reconstruction overshoots [0, 1]; the authors save 8-bit

    levels: int = 4

    def __post_init__(self) -> None:
        check_levels("lp", self.levels)

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        depth = pyramid_depth(a.shape, self.levels)
        pa, pb = laplacian_pyramid(a, depth), laplacian_pyramid(b, depth)
        fused = [select_max_abs(x, y) for x, y in zip(pa[:-1], pb[:-1])]
        fused.append((pa[-1] + pb[-1]) * np.float32(0.5))
        return collapse_laplacian(fused)
