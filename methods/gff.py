"""Guided-filtering fusion, GFF (S. Li, X. Kang, J. Hu, "Image fusion with guided filtering",
IEEE Trans. Image Process. 22(7):2864-2875, 2013).

The steps of the paper, in the order of the authors' MATLAB code (``GFF.m``):

1. Two-scale decomposition of each source ``I_n``: base ``B_n`` = ``base_size`` x
   ``base_size`` mean filter of ``I_n`` (replicated border), detail ``D_n = I_n - B_n``.
2. Saliency: ``S_n`` = |3x3 Laplacian of ``G_n``| smoothed by a ``2*saliency_radius+1``
   square Gaussian of std ``saliency_sigma`` (both with replicated border), where ``G_n`` is the
   gray version of ``I_n`` (MATLAB ``rgb2gray`` weights for colour sources; the authors' code
   rounds it to 8 bits; on four Lytro pairs that changed the PSNR against their outputs by
   less than 0.01 dB).
3. Binary weight maps: ``P_n = 1`` where ``S_n`` is the largest (ties go to the first source).
4. Weights refined by the gray-guide guided filter with guide ``G_n``:
   ``W^B_n = GF(P_n, G_n; r1, eps1)``, ``W^D_n = GF(P_n, G_n; r2, eps2)``; as in the authors'
   code each map is quantised to 8 bits (``uint8(W * 255) / 255``, which also clips it to
   [0, 1]) and the maps are normalised to sum to one (``+1e-12`` in each, against 0/0).
5. ``F = sum_n W^B_n B_n + W^D_n D_n``.

Colour (``color = "native"``): as in the authors' code, the weights come from the gray images
and the base/detail layers of all three RGB channels are fused with them.
Parameters (paper's defaults): ``r1=45, eps1=0.3, r2=7, eps2=1e-6``, ``base_size=31``,
``saliency_radius=5`` (an 11x11 Gaussian), ``saliency_sigma=5``.

Validation against the authors' MATLAB outputs on the 20 Lytro pairs: ``reports/validation/gff.md``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy import ndimage

from fusionbench.io import RGB2GRAY_COEFFS
from fusionbench.registry import FusionMethod, register_method

from ._common import box_mean, guided_filter


@register_method(
    "gff",
    family="spatial",
    reference="Li, Kang & Hu, Image fusion with guided filtering, IEEE TIP 22(7), 2013",
)
class GuidedFilteringFusion(FusionMethod):
    """GFF: two-scale decomposition, Laplacian saliency, guided-filter weight refinement."""

    color: ClassVar[str] = "native"
    clip_output: ClassVar[bool] = True  # reconstruction overshoots [0, 1]; the authors save 8-bit

    r1: int = 45
    eps1: float = 0.3
    r2: int = 7
    eps2: float = 1e-6
    base_size: int = 31
    saliency_radius: int = 5
    saliency_sigma: float = 5.0

    def __post_init__(self) -> None:
        for name in ("r1", "r2", "base_size", "saliency_radius"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < (1 if name == "base_size" else 0):
                raise ValueError(f"gff: {name} must be a non-negative integer (base_size >= 1), got {value!r}")
        for name in ("eps1", "eps2", "saliency_sigma"):
            if not getattr(self, name) > 0:
                raise ValueError(f"gff: {name} must be > 0, got {getattr(self, name)!r}")

    def fuse_color(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        gray_a, gray_b = _gray(a), _gray(b)
        p_a = (self._saliency(gray_a) >= self._saliency(gray_b)).astype(np.float32)
        w_base = _normalise(*self._refine(gray_a, gray_b, p_a, self.r1, self.eps1))
        w_detail = _normalise(*self._refine(gray_a, gray_b, p_a, self.r2, self.eps2))
        # Colour channels first (planar), so the (H, W) weights broadcast over whole planes.
        planar = a.ndim == 3
        fused = None
        for image, wb, wd in ((a, w_base[0], w_detail[0]), (b, w_base[1], w_detail[1])):
            if planar:
                image = np.ascontiguousarray(np.moveaxis(image, 2, 0))
            size = ((1,) if planar else ()) + (self.base_size,) * 2
            base = ndimage.uniform_filter(image, size=size, mode="nearest")
            # base * wb + (image - base) * wd
            base *= wb - wd
            image = image * wd
            image += base
            fused = image if fused is None else fused + image
        return np.moveaxis(fused, 0, 2) if planar else fused

    def _saliency(self, gray: np.ndarray) -> np.ndarray:
        """|3x3 Laplacian| smoothed by the square Gaussian, borders replicated."""
        padded = np.pad(gray, 1, mode="edge")
        laplacian = padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]
        laplacian -= np.float32(4) * gray
        np.abs(laplacian, out=laplacian)
        x = np.arange(-self.saliency_radius, self.saliency_radius + 1, dtype=np.float64)
        kernel = np.exp(-(x * x) / (2.0 * self.saliency_sigma**2))
        kernel /= kernel.sum()
        smoothed = ndimage.correlate1d(laplacian, kernel, axis=0, mode="nearest")
        return ndimage.correlate1d(smoothed, kernel, axis=1, mode="nearest", output=smoothed)

    @staticmethod
    def _refine(gray_a: np.ndarray, gray_b: np.ndarray, p_a: np.ndarray, r: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
        """``GF(P_a, G_a)`` and ``GF(P_b, G_b)`` with ``P_b = 1 - P_a``, each quantised to 8 bits
        as the authors' code does (MATLAB ``uint8``: round half up for these non-negative
        values, saturate at 0 and 255). The guided filter is linear in its input, so
        ``GF(1 - P_a, G_b) = 1 - GF(P_a, G_b)``, and both share the box mean of ``P_a``."""
        mean_p = box_mean(p_a, r, np.float32)
        refined_a = guided_filter(gray_a, p_a, r, eps, np.float32, mean_src=mean_p)
        refined_b = np.float32(1) - guided_filter(gray_b, p_a, r, eps, np.float32, mean_src=mean_p)
        for refined in (refined_a, refined_b):
            refined *= np.float32(255)
            refined += np.float32(0.5)
            np.floor(refined, out=refined)
            np.clip(refined, 0, 255, out=refined)
            refined /= np.float32(255)
        return refined_a, refined_b


def _gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    r, g, b = (np.float32(c) for c in RGB2GRAY_COEFFS)
    return image[..., 0] * r + image[..., 1] * g + image[..., 2] * b


def _normalise(w_a: np.ndarray, w_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w_a = w_a + np.float32(1e-12)
    w_b = w_b + np.float32(1e-12)
    total = w_a + w_b
    return w_a / total, w_b / total
