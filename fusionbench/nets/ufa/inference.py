"""UFA-Fuse inference on numpy images: batched, ``torch.inference_mode``, channels-last, and
tiled for large images.

Images up to ``max_pixels`` go through the network in one piece (several pairs of the same
size in one batch). Larger images are fused tile by tile, exactly: the channel attention
pools over the whole image, so a first pass computes the FEB7 features tile by tile (with a
halo of :func:`~fusionbench.nets.ufa.model.receptive_radius` ("features") = 7 pixels) and
accumulates their global means A_1, A_2; the second pass fuses each tile with a halo of 14
pixels (the output's receptive radius) using those means. The result equals the untiled
forward pass up to float rounding, for about 1.8x the compute; memory stays bounded by the
tile size (a 4096 x 4096 pair fits in a few GB on CPU).
"""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

__all__ = ["fuse_arrays", "tiles", "DEFAULT_MAX_PIXELS", "DEFAULT_TILE"]

DEFAULT_MAX_PIXELS = 1024 * 1024
DEFAULT_TILE = 512


def _to_tensor(images: Sequence[np.ndarray], device):
    import torch

    stack = np.stack([np.asarray(x, dtype=np.float32) for x in images])  # (N, H, W, 3)
    # NHWC memory viewed as NCHW is exactly the channels-last layout: no copy needed.
    return torch.from_numpy(stack).to(device).permute(0, 3, 1, 2)


def tiles(size: int, tile: int) -> Iterator[tuple[int, int]]:
    """Cores ``[start, stop)`` covering ``0..size`` in steps of ``tile``."""
    for start in range(0, size, tile):
        yield start, min(start + tile, size)


def _window(start: int, stop: int, halo: int, size: int) -> tuple[int, int]:
    return max(0, start - halo), min(size, stop + halo)


def fuse_arrays(
    model,
    a: np.ndarray | Sequence[np.ndarray],
    b: np.ndarray | Sequence[np.ndarray],
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    tile: int = DEFAULT_TILE,
    device: str = "cpu",
) -> np.ndarray:
    """Fuse RGB float32 images in [0, 1] with a :class:`~fusionbench.nets.ufa.model.UFAFuse`.

    ``a``, ``b``: one (H, W, 3) pair, or two sequences of same-size pairs (one batch).
    Returns float32 (H, W, 3) (or (N, H, W, 3)) in [0, 1]. Pairs with more than
    ``max_pixels`` pixels are fused in ``tile`` x ``tile`` tiles (exact; see module docstring).
    On CUDA the network runs in bf16 (autocast); on CPU in float32.
    """
    import torch

    single = isinstance(a, np.ndarray) and a.ndim == 3
    a_list = [a] if single else list(a)
    b_list = [b] if single else list(b)
    shapes = {x.shape for x in a_list + b_list}
    if len(shapes) != 1 or len(next(iter(shapes))) != 3 or next(iter(shapes))[2] != 3:
        raise ValueError(f"UFA-Fuse: all inputs must be (H, W, 3) of one size, got shapes {sorted(shapes)}")
    h, w = a_list[0].shape[:2]
    model = model.to(device, memory_format=torch.channels_last).eval()
    on_gpu = torch.device(device).type == "cuda"
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=on_gpu):
        if h * w <= max_pixels:
            out = model(_to_tensor(a_list, device), _to_tensor(b_list, device))
            fused = out.permute(0, 2, 3, 1).float().cpu().numpy()
        else:
            fused = np.stack([_fuse_tiled(model, x, y, tile, device) for x, y in zip(a_list, b_list)])
    fused = np.clip(fused, 0.0, 1.0).astype(np.float32)
    return fused[0] if single else fused


def _fuse_tiled(model, a: np.ndarray, b: np.ndarray, tile: int, device: str) -> np.ndarray:
    import torch

    from .model import CHANNELS, receptive_radius

    h, w = a.shape[:2]
    grid = [(ys, xs) for ys in tiles(h, tile) for xs in tiles(w, tile)]

    def window(ys, xs, halo):
        (y0, y1), (x0, x1) = _window(*ys, halo, h), _window(*xs, halo, w)
        pa, pb = (_to_tensor([img[y0:y1, x0:x1]], device) for img in (a, b))
        core = (slice(None), slice(None), slice(ys[0] - y0, ys[1] - y0), slice(xs[0] - x0, xs[1] - x0))
        return pa, pb, core

    channel_means = None
    if model.use_channel_attention:
        sums = [torch.zeros(1, CHANNELS, dtype=torch.float64, device=device) for _ in range(2)]
        for ys, xs in grid:
            pa, pb, core = window(ys, xs, receptive_radius("features"))
            for k, f in enumerate(model.features(pa, pb)):
                sums[k] += f[core].double().sum(dim=(2, 3))
        channel_means = tuple((s / (h * w)).float() for s in sums)

    fused = np.empty((h, w, 3), dtype=np.float32)
    halo = receptive_radius("output")
    for ys, xs in grid:
        pa, pb, core = window(ys, xs, halo)
        out = model(pa, pb, channel_means=channel_means)[core]
        fused[ys[0] : ys[1], xs[0] : xs[1]] = out[0].permute(1, 2, 0).float().cpu().numpy()
    return fused
