"""Spatial-frequency block fusion (S. Li, J. T. Kwok, Y. Wang, "Combination of images with
diverse focuses using the spatial frequency", Information Fusion 2(3):169-176, 2001).

1. Both sources are cut into ``block_size`` x ``block_size`` blocks (partial blocks at the
   right and bottom borders).
2. Each block's spatial frequency ``SF = sqrt(RF^2 + CF^2)``, with RF (CF) the root mean
   square of the differences between horizontally (vertically) adjacent pixels inside the
   block, on the 8-bit scale (values x 255) as in the paper.
3. A block is taken from A if ``SF_A > SF_B + threshold``, from B if ``SF_B > SF_A +
   threshold``, otherwise the two blocks are averaged.
4. Consistency verification: a block taken from one source whose surrounding blocks (3 x 3
   block neighbourhood) come mostly - more than half of them - from the other source is
   switched to the other source (majority filter).

Parameters: ``block_size`` (default 16), ``threshold`` (default 0: every block is a choice
except exact ties), ``consistency`` (default True).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from fusionbench.registry import FusionMethod, register_method


def block_spatial_frequency(image: np.ndarray, block_size: int) -> np.ndarray:
    """SF of every block, shape (ceil(H / block_size), ceil(W / block_size)), 8-bit scale."""
    image = image.astype(np.float32) * np.float32(255)
    h, w = image.shape
    # Squared differences of each pixel with its right (bottom) neighbour, stored at the pixel;
    # zero where the neighbour is in the next block or outside the image.
    diff2 = np.zeros((h, w), dtype=np.float32)
    diff2[:, :-1] = np.diff(image, axis=1) ** 2
    diff2[:, block_size - 1 :: block_size] = 0
    col = np.zeros((h, w), dtype=np.float32)
    col[:-1] = np.diff(image, axis=0) ** 2
    col[block_size - 1 :: block_size] = 0
    diff2 += col
    starts_h, starts_w = np.arange(0, h, block_size), np.arange(0, w, block_size)
    sums = np.add.reduceat(np.add.reduceat(diff2, starts_h, axis=0, dtype=np.float64), starts_w, axis=1)
    counts = np.multiply.outer(np.diff(np.append(starts_h, h)), np.diff(np.append(starts_w, w)))
    return np.sqrt(sums / counts)


def majority_consistency(choice: np.ndarray) -> np.ndarray:
    """``choice``: +1 (A), -1 (B), 0 (average) per block. Hard choices whose 8 neighbours
    mostly (more than half of those that exist) chose the other source are switched."""
    ring = np.ones((3, 3))
    ring[1, 1] = 0
    neighbours = ndimage.correlate(np.ones(choice.shape), ring, mode="constant")
    from_a = ndimage.correlate((choice > 0).astype(float), ring, mode="constant")
    from_b = ndimage.correlate((choice < 0).astype(float), ring, mode="constant")
    out = choice.copy()
    out[(choice > 0) & (from_b > neighbours / 2)] = -1
    out[(choice < 0) & (from_a > neighbours / 2)] = 1
    return out


@register_method("sf", family="spatial", reference="Li, Kwok & Wang, Information Fusion 2(3), 2001")
class SpatialFrequencyFusion(FusionMethod):
    """SF: per block, the source with the higher spatial frequency (majority-filtered)."""

    block_size: int = 16
    threshold: float = 0.0
    consistency: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.block_size, (int, np.integer)) or self.block_size < 2:
            raise ValueError(f"sf: block_size must be an integer >= 2, got {self.block_size!r}")
        if not self.threshold >= 0:
            raise ValueError(f"sf: threshold must be >= 0, got {self.threshold!r}")

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        sf_a = block_spatial_frequency(a, self.block_size)
        sf_b = block_spatial_frequency(b, self.block_size)
        choice = np.where(sf_a > sf_b + self.threshold, 1.0, np.where(sf_b > sf_a + self.threshold, -1.0, 0.0))
        if self.consistency:
            choice = majority_consistency(choice)
        weight = (choice + 1.0) * 0.5  # 1 -> A, 0 -> B, 0.5 -> average
        weight = np.repeat(np.repeat(weight, self.block_size, axis=0), self.block_size, axis=1)
        weight = weight[: a.shape[0], : a.shape[1]].astype(np.float32)
        return b + weight * (a - b)
