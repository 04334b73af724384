"""CNN fusion (Y. Liu, X. Chen, H. Peng, Z. Wang, "Multi-focus image fusion with a deep
convolutional neural network", Information Fusion 36: 191-207, 2017).

The steps of the paper, in the order of the authors' MATLAB ``CNN_Fusion.m``, with the
Siamese classifier of :mod:`fusionbench.nets.cnn` (trained by fusionbench on BSDS500 patch
pairs, ``reports/training/cnn.md``):

1. Gray sources ``G_a``, ``G_b`` in [0, 1] (MATLAB ``rgb2gray`` weights, unrounded, on
   ``double(A) / 255``).
2. Score map: the classifier applied fully-convolutionally, one score (probability that
   ``a`` is focused) per 16x16 window, every 2 pixels; pairs of more than ``max_pixels``
   pixels ``tile`` x ``tile`` scores at a time (the same scores, bounded memory).
3. Focus map: each score spread over its 16x16 window (clipped at the border), averaged
   where windows overlap (:func:`focus_map`).
4. Binary segmentation: ``focus > 0.5``.
5. Consistency verification, small-region removal: regions (8-connected) of either value
   smaller than ``area_ratio`` of the image (``ceil(0.01 H W)`` pixels) are flipped
   (MATLAB ``bwareaopen`` on the map, then on its complement).
6. The decision map is refined by the guided filter (He et al.; radius ``gf_radius`` = 8,
   ``gf_eps`` = 0.1) with guide ``G_a D + G_b (1 - D)``.
7. ``F = A W + B (1 - W)`` on every colour channel (colour natively, as the authors' code;
   the weights can leave [0, 1] slightly, so the result saturates like their ``uint8``).

Validation against the authors' outputs on Lytro: ``reports/validation/cnn.md``.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from fusionbench.io import to_gray, to_uint8
from fusionbench.nets.method import NetworkMethod
from fusionbench.nets.tiled import DEFAULT_MAX_PIXELS
from fusionbench.registry import register_method

from ._common import guided_filter
from ._decision_maps import area_open

__all__ = ["CNNFusion", "focus_map", "remove_small_regions"]

PATCH = 16  # the classifier's window (fusionbench.nets.cnn.PATCH)
STRIDE = 2  # spacing of the windows


def focus_map(scores: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The authors' focus map from window scores: window (j, i) covers rows ``2j .. 2j+15``
    and columns ``2i .. 2i+15`` (clipped to ``shape``); each pixel gets the mean score of the
    windows covering it. ``scores`` (h, w) -> float64 (H, W)."""
    scores = np.asarray(scores, dtype=np.float64)
    height, width = shape
    h, w = scores.shape
    size = (max(STRIDE * (h - 1) + PATCH, height), max(STRIDE * (w - 1) + PATCH, width))
    # Sum of the windows covering a pixel: the scores on a stride-2 grid, summed over the
    # 16x16 box ending at the pixel; the count likewise with every score 1.
    grid = np.zeros(size)
    counts = np.zeros(size)
    grid[: STRIDE * h : STRIDE, : STRIDE * w : STRIDE] = scores
    counts[: STRIDE * h : STRIDE, : STRIDE * w : STRIDE] = 1.0
    return _trailing_box_sum(grid)[:height, :width] / _trailing_box_sum(counts)[:height, :width]


def _trailing_box_sum(image: np.ndarray) -> np.ndarray:
    """``out[y, x] = sum(image[y-15 .. y, x-15 .. x])`` (nothing before the start)."""
    out = np.cumsum(np.cumsum(image, axis=0), axis=1)
    out[PATCH:] -= out[:-PATCH].copy()
    out[:, PATCH:] -= out[:, :-PATCH].copy()
    return out


def remove_small_regions(mask: np.ndarray, area: int) -> np.ndarray:
    """``1 - bwareaopen(1 - bwareaopen(mask, area), area)``: drop true regions, then false
    regions, of fewer than ``area`` pixels (8-connected), as the authors' code does."""
    return ~area_open(~area_open(mask, area), area)


@register_method("cnn", family="deep", reference="Liu, Chen, Peng & Wang, Information Fusion 36, 2017")
class CNNFusion(NetworkMethod):
    """CNN focus classifier, binary segmentation, small-region removal, guided filter."""

    color: ClassVar[str] = "native"
    clip_output: ClassVar[bool] = True  # guided-filter weights overshoot [0, 1]; saturate as uint8 does

    area_ratio: float = 0.01
    gf_radius: int = 8
    gf_eps: float = 0.1
    max_pixels: int = DEFAULT_MAX_PIXELS
    tile: int = 256

    @classmethod
    def load_network(cls, path: str):
        from fusionbench.nets.cnn import CNNFocusNet
        from fusionbench.nets.weights import load_state

        model = CNNFocusNet()
        load_state(model, path, "the CNN (Liu et al. 2017) focus classifier")
        return model.eval()

    def __post_init__(self) -> None:
        if self.max_pixels < 1 or self.tile < 1:
            raise ValueError(f"cnn: max_pixels and tile must be >= 1, got {self.max_pixels!r}, {self.tile!r}")
        if not 0 <= self.area_ratio < 1:
            raise ValueError(f"cnn: area_ratio must be in [0, 1), got {self.area_ratio!r}")
        if self.gf_radius < 1 or not self.gf_eps > 0:
            raise ValueError(f"cnn: gf_radius must be >= 1 and gf_eps > 0, got {self.gf_radius!r}, {self.gf_eps!r}")

    def maps(self, a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
        """The intermediate maps (H, W) of steps 3, 4, 5 and 6: ``focus``, ``binary``,
        ``decision`` and ``weights`` (the refined decision map), and the 0..1 gray sources."""
        import torch

        if min(a.shape[:2]) < PATCH:
            raise ValueError(f"cnn: the classifier scores {PATCH}x{PATCH} windows; the images are {a.shape[1]}x{a.shape[0]}")
        self.check_memory(a.shape)
        a, b = (to_uint8(x).astype(np.float64) / 255.0 for x in (a, b))  # double(A) / 255
        gray_a, gray_b = to_gray(a), to_gray(b)
        with torch.inference_mode():
            model = self.network().to(self.device, memory_format=torch.channels_last)
            tensors = (torch.from_numpy(g.astype(np.float32))[None, None].to(self.device, memory_format=torch.channels_last)
                       for g in (gray_a, gray_b))
            if gray_a.size > self.max_pixels:
                scores = model.tiled_focus_scores(*tensors, tile=self.tile)
            else:
                scores = model.focus_scores(*tensors)
            scores = scores[0, 0].float().cpu().numpy()
        focus = focus_map(scores, gray_a.shape)
        binary = focus > 0.5
        decision = remove_small_regions(binary, math.ceil(self.area_ratio * binary.size))
        guide = np.where(decision, gray_a, gray_b)  # G_a D + G_b (1 - D) for a binary D
        weights = guided_filter(guide, decision.astype(np.float64), self.gf_radius, self.gf_eps)
        return {"focus": focus, "binary": binary, "decision": decision, "weights": weights,
                "gray_a": gray_a, "gray_b": gray_b, "a": a, "b": b}

    def fuse_color(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        maps = self.maps(a, b)
        w = maps["weights"] if a.ndim == 2 else maps["weights"][..., np.newaxis]
        return maps["a"] * w + maps["b"] * (1.0 - w)
