"""Small synthetic training images for the network tests (no shared data needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image


def texture(rng: np.random.Generator, height: int, width: int, scales: Sequence[float] = (0.7, 2.0)) -> np.ndarray:
    """A smooth random colour texture (height, width, 3) uint8: Gaussian-filtered noise at each
    of ``scales`` (weighted 1 + scale), stretched to 0..255."""
    from scipy import ndimage

    img = sum(ndimage.gaussian_filter(rng.random((height, width, 3)), (s, s, 0)) * (1 + s) for s in scales)
    return ((img - img.min()) / (img.max() - img.min()) * 255).astype(np.uint8)


def write_bsds_layout(
    root: Path,
    rng: np.random.Generator,
    count: int,
    size: tuple[int, int],
    block: tuple[int, int],
    scales: Sequence[float] = (0.7, 2.0),
    quality: int = 95,
) -> Path:
    """BSDS500's layout under ``root``: ``count`` textures of ``size`` (height, width) per split
    as ``images/<split>/<i>.jpg`` (JPEG ``quality``) and label maps of ``block``-sized
    rectangles, numbered from 1, as ``segments/<split>/<i>.png``."""
    height, width = size
    rows, cols = np.arange(height)[:, None] // block[0], np.arange(width)[None, :] // block[1]
    labels = (1 + rows * -(-width // block[1]) + cols).astype(np.uint8)
    for split in ("train", "val", "test"):
        (root / "images" / split).mkdir(parents=True)
        (root / "segments" / split).mkdir(parents=True)
        for i in range(count):
            Image.fromarray(texture(rng, height, width, scales)).save(root / "images" / split / f"{i}.jpg", quality=quality)
            Image.fromarray(labels).save(root / "segments" / split / f"{i}.png")
    return root
