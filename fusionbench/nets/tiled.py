"""Inference of local fusion networks on numpy images, in one piece or in exact tiles.

A *local* network is fully convolutional: each output pixel depends only on the inputs within
``radius`` pixels (its receptive radius), so an image can be processed tile by tile, each
tile with a halo of ``radius`` pixels taken from the image, and the cores stitched together
give the untiled result (up to float rounding). At the image border a tile meets the same
border as the whole image does, so the network's own padding applies there as before.
Memory then stays bounded by the tile size whatever the image size.

DenseFuse, DeepFuse and IFCNN are local (UFA-Fuse is not: its channel attention pools over
the whole image, see :mod:`fusionbench.ufa.inference`).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

__all__ = ["DEFAULT_MAX_PIXELS", "DEFAULT_TILE", "run_local"]

DEFAULT_MAX_PIXELS = 1024 * 1024
DEFAULT_TILE = 512


def _spans(size: int, tile: int) -> list[tuple[int, int]]:
    return [(start, min(start + tile, size)) for start in range(0, size, tile)]


def run_local(
    network: Callable,
    inputs: Sequence[np.ndarray],
    radius: int,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    tile: int = DEFAULT_TILE,
    device: str = "cpu",
) -> np.ndarray:
    """Apply ``network`` to images (C, H, W) float32 and return its output (C', H, W) float32.

    ``network(*tensors)`` maps tensors (1, C, h, w) to one tensor (1, C', h, w), runs under
    ``torch.inference_mode``, and must be local with receptive radius ``radius``. Images with
    at most ``max_pixels`` pixels go through in one piece, larger ones in ``tile`` x ``tile``
    tiles with a halo of ``radius`` pixels (the same result, bounded memory). The tensors are
    in channels-last layout, which the network should share (faster convolutions on CPU).
    """
    import torch

    if tile < 1 or max_pixels < 1:
        raise ValueError(f"tile and max_pixels must be positive, got tile={tile}, max_pixels={max_pixels}")
    h, w = inputs[0].shape[1:]

    def forward(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        tensors = [torch.from_numpy(np.ascontiguousarray(x[:, y0:y1, x0:x1]))[None].to(device)
                   .contiguous(memory_format=torch.channels_last) for x in inputs]
        return network(*tensors)[0].float().cpu().numpy()

    with torch.inference_mode():
        if h * w <= max_pixels:
            return forward(0, h, 0, w)
        out = None
        for ys in _spans(h, tile):
            for xs in _spans(w, tile):
                y0, y1 = max(0, ys[0] - radius), min(h, ys[1] + radius)
                x0, x1 = max(0, xs[0] - radius), min(w, xs[1] + radius)
                part = forward(y0, y1, x0, x1)
                if out is None:
                    out = np.empty((part.shape[0], h, w), dtype=np.float32)
                out[:, ys[0] : ys[1], xs[0] : xs[1]] = part[:, ys[0] - y0 : ys[1] - y0, xs[0] - x0 : xs[1] - x0]
        return out
