"""Dense-SIFT multi-focus fusion, DSIFT (Y. Liu, S. Liu, Z. Wang, "Multi-focus image fusion
with dense SIFT", Information Fusion 23:139-155, 2015).

The steps and constants follow the authors' MATLAB code (``DSIFT_Fusion.m`` with its
``DenseSIFT.m``, ``generate_initmap.m``, ``refine_withmatching.m``; defaults of their demo:
``scale=48, blocksize=8, matching=1``). Everything is computed on the gray images
(MATLAB ``rgb2gray`` of the 8-bit sources, 0..255):

1. Dense SIFT at every pixel: the image is zero-padded by ``scale/4 - 1`` pixels and divided
   by its maximum; gradients come from derivative-of-Gaussian filters (sigma 1, 5x5, each
   normalised to an L1 norm of 2); eight orientation channels hold
   ``max(cos(theta - a_k), 0)^9 * |grad|``, ``a_k = k pi/4``; each channel is smoothed by the
   separable triangle of ``conv2`` with ``1 - |m - (P/2 - 0.5)| / (P/4)``, ``P = scale/2``
   (MATLAB ``'same'`` alignment, so the triangle is centred 1.5 pixels down/right) and sampled
   at the 4 x 4 bin offsets ``{-P/2+1, -P/4+1, 1, P/4+1}``: 128 values per pixel, computed
   with array filtering, never per pixel.
2. Activity = sum of the 128 descriptor values. Every ``blocksize`` x ``blocksize`` block
   (sliding, step 1) votes for the source with the larger activity sum; a pixel is "surely
   A" when more than 99 % of the blocks covering it vote A (likewise B).
3. Each of the two sure maps loses its 8-connected regions and holes smaller than
   ``min_region`` (3600) pixels (``bwareaopen`` twice).
4. Decision map ``D = A + 0.5 (1 - A - B)``: 1 = take A, 0 = take B, 0.5 = undecided (neither,
   or both, sure).
5. Undecided pixels (at least ``radius`` = 3 pixels from the border) are refined by local
   feature matching: the descriptors, normalised as in Lowe's SIFT (unit length, clipped at
   0.2, unit length again, only when the norm exceeds 1), of each pixel in one source are
   matched to the nearest descriptor of the other source in the 7 x 7 neighbourhood (first
   minimum in MATLAB's column-major order); if the 7 x 7 spatial frequency (SF) of A at the
   pixel beats B at A's match and B's at the pixel loses to A at B's match, the pixel takes A
   (and the converse takes B); otherwise it stays 0.5 (the average of the two sources).
   With ``matching=False`` the refinement is the plain SF comparison at the pixel
   (``refine_withoutmatching.m``).
6. ``F = D A + (1 - D) B``, the same map for each colour channel (``color = "native"``).

Validation against the authors' outputs on the 20 Lytro pairs: ``reports/validation/dsift.md``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy import ndimage

from fusionbench.registry import FusionMethod, register_method

from ._decision_maps import area_open, count_in_window, gray_255

_ANGLE_BINS = 8
_SPATIAL_BINS = 4
_ORIENTATION_POWER = 9  # "alpha" of DenseSIFT.m: attenuation of off-bin angles
_SURE_FRACTION = 0.99  # k of generate_initmap.m


@register_method(
    "dsift",
    family="spatial",
    reference="Liu, Liu & Wang, Multi-focus image fusion with dense SIFT, Information Fusion 23, 2015",
)
class DenseSiftFusion(FusionMethod):
    """DSIFT: dense-SIFT activity, block voting, small-region removal, feature-matching refinement."""

    color: ClassVar[str] = "native"

    scale: int = 48
    blocksize: int = 8
    matching: bool = True
    min_region: int = 3600
    radius: int = 3

    def __post_init__(self) -> None:
        if not isinstance(self.scale, (int, np.integer)) or self.scale < 8 or self.scale % 8:
            raise ValueError(f"dsift: scale must be a positive multiple of 8 (patch = scale/2 pixels), got {self.scale!r}")
        for name in ("blocksize", "min_region", "radius"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"dsift: {name} must be a positive integer, got {value!r}")

    def fuse_color(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        decision = self.decision_map(a, b)
        if a.ndim == 3:
            decision = decision[..., np.newaxis]
        return (decision * a + (1.0 - decision) * b).astype(np.float32)

    def decision_map(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Map in {0, 0.5, 1}: the weight of ``a`` at each pixel."""
        gray_a, gray_b = gray_255(a), gray_255(b)
        sift_a, sift_b = (_DenseSift(g, self.scale) for g in (gray_a, gray_b))
        sure_a, sure_b = _sure_maps(sift_a.activity(), sift_b.activity(), self.blocksize, self.min_region)
        decision = sure_a + 0.5 * (1.0 - sure_a - sure_b)
        undecided = decision == 0.5
        r = self.radius
        undecided[:r] = undecided[-r:] = False
        undecided[:, :r] = undecided[:, -r:] = False
        rows, cols = np.nonzero(undecided)
        if rows.size == 0:
            return decision
        sf_energy_a, sf_energy_b = _window_sf_energy(gray_a, r), _window_sf_energy(gray_b, r)
        if self.matching:
            match_ab, match_ba = _match_descriptors(sift_a, sift_b, rows, cols, r)
            h, w = decision.shape
            valid = np.ones(rows.size, dtype=bool)
            for my, mx in (match_ab, match_ba):
                valid &= (my >= r) & (my < h - r) & (mx >= r) & (mx < w - r)
            rows, cols = rows[valid], cols[valid]
            (ab_y, ab_x), (ba_y, ba_x) = ((m[0][valid], m[1][valid]) for m in (match_ab, match_ba))
            sf_a, sf_b = sf_energy_a[rows, cols], sf_energy_b[rows, cols]
            sf_b_at_match, sf_a_at_match = sf_energy_b[ab_y, ab_x], sf_energy_a[ba_y, ba_x]
            take_a = (sf_a > sf_b_at_match) & (sf_b < sf_a_at_match)
            take_b = (sf_a < sf_b_at_match) & (sf_b > sf_a_at_match)
            decision[rows[take_a], cols[take_a]] = 1.0
            decision[rows[take_b], cols[take_b]] = 0.0
        else:
            decision[rows, cols] = (sf_energy_a[rows, cols] > sf_energy_b[rows, cols]).astype(np.float64)
        return decision


class _DenseSift:
    """Dense SIFT descriptors of one gray image (Ce Liu's ``DenseSIFT.m`` as edited by the
    DSIFT authors), kept as eight smoothed orientation channels so that descriptors are only
    assembled where needed."""

    def __init__(self, gray: np.ndarray, scale: int) -> None:
        patch = scale // 2
        self.pad = scale // 4 - 1
        image = np.pad(gray, self.pad)
        peak = image.max()
        if peak > 0:
            image = image / peak
        gx, gy = _derivative_of_gaussian()
        vertical_edges = ndimage.correlate(image, gx, mode="constant")
        horizontal_edges = ndimage.correlate(image, gy, mode="constant")
        magnitude = np.hypot(vertical_edges, horizontal_edges)
        theta = np.arctan2(horizontal_edges, vertical_edges)
        cos_t, sin_t = np.cos(theta), np.sin(theta)
        weights, first_offset = _triangle(patch)
        origin = -(weights.size // 2) - first_offset
        self.channels = np.empty((_ANGLE_BINS, *image.shape), dtype=np.float32)
        for k in range(_ANGLE_BINS):
            angle = 2.0 * np.pi * k / _ANGLE_BINS
            response = np.maximum(cos_t * np.cos(angle) + sin_t * np.sin(angle), 0.0) ** _ORIENTATION_POWER
            channel = (response * magnitude).astype(np.float32)
            channel = ndimage.correlate1d(channel, weights, axis=0, mode="constant", origin=origin)
            self.channels[k] = ndimage.correlate1d(channel, weights, axis=1, mode="constant", origin=origin)
        step = patch // _SPATIAL_BINS
        self.offsets = [1 - patch // 2 + i * step for i in range(_SPATIAL_BINS)]
        self.shape = gray.shape

    def _sample(self, channels: np.ndarray, dy: int, dx: int) -> np.ndarray:
        h, w = self.shape
        y0, x0 = self.pad + dy, self.pad + dx
        return channels[..., y0 : y0 + h, x0 : x0 + w]

    def activity(self) -> np.ndarray:
        """Sum of the 128 descriptor values at every pixel (float64)."""
        total = self.channels.sum(axis=0, dtype=np.float64)
        return sum(self._sample(total, dy, dx) for dy in self.offsets for dx in self.offsets)

    def descriptors(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Normalised 128-d descriptors at the given pixels, float32 (N, 128)."""
        parts = [
            self.channels[:, rows + self.pad + dy, cols + self.pad + dx].T
            for dx in self.offsets
            for dy in self.offsets
        ]
        return _normalise_sift(np.concatenate(parts, axis=1))


def _derivative_of_gaussian() -> tuple[np.ndarray, np.ndarray]:
    """``genDeltaGaussian(1)``: MATLAB ``gradient`` of ``fspecial('gaussian', 5, 1)``, each
    scaled to an L1 norm of 2. Returns (d/dx, d/dy)."""
    x = np.arange(5, dtype=np.float64) - 2.0
    g = np.exp(-(x[np.newaxis, :] ** 2 + x[:, np.newaxis] ** 2) / 2.0)
    g /= g.sum()
    gx, gy = np.gradient(g, axis=1), np.gradient(g, axis=0)
    return gx * 2.0 / np.abs(gx).sum(), gy * 2.0 / np.abs(gy).sum()


def _triangle(patch: int) -> tuple[np.ndarray, int]:
    """Weights of ``conv2(weightX, weightX', ., 'same')`` as a correlation over offsets
    ``first, first+1, ...``: ``1 - |1.5 - d| / (patch/4)`` where positive."""
    resolution = patch / _SPATIAL_BINS
    d = np.arange(-patch, patch + 1)
    weights = 1.0 - np.abs(1.5 - d) / resolution
    keep = weights > 0
    return weights[keep], int(d[keep][0])


def _normalise_sift(descriptors: np.ndarray) -> np.ndarray:
    """``DSIFTNormalization.m`` (Lowe): descriptors with norm > 1 are scaled to unit length,
    clipped at 0.2 and rescaled to unit length; the others are left as they are."""
    norms = np.sqrt(np.einsum("ij,ij->i", descriptors, descriptors))
    big = norms > 1
    normed = np.minimum(descriptors[big] / norms[big, np.newaxis], np.float32(0.2))
    normed /= np.sqrt(np.einsum("ij,ij->i", normed, normed))[:, np.newaxis]
    descriptors[big] = normed
    return descriptors


def _sure_maps(activity_a, activity_b, blocksize: int, min_region: int) -> tuple[np.ndarray, np.ndarray]:
    """``generate_initmap.m``: sliding-block votes, >99 % agreement, small regions and holes removed."""
    h, w = activity_a.shape
    integral = np.zeros((h + 1, w + 1))
    maps = []
    block_sums = []
    for activity in (activity_a, activity_b):
        integral[1:, 1:] = activity.cumsum(axis=0).cumsum(axis=1)
        n = blocksize
        block_sums.append(integral[n:, n:] - integral[:-n, n:] - integral[n:, :-n] + integral[:-n, :-n])
    votes_a = block_sums[0] > block_sums[1]
    votes_b = block_sums[1] > block_sums[0]
    full = np.zeros((h, w), dtype=bool)
    covering = _covering_blocks(np.ones_like(votes_a), blocksize, full)
    covering = np.maximum(covering, 1)
    for votes in (votes_a, votes_b):
        share = _covering_blocks(votes, blocksize, full) / covering
        sure = area_open(share > _SURE_FRACTION, min_region)
        maps.append((~area_open(~sure, min_region)).astype(np.float64))
    return maps[0], maps[1]


def _covering_blocks(votes: np.ndarray, blocksize: int, canvas: np.ndarray) -> np.ndarray:
    """For each pixel, how many blocks with a vote (top-left corners in ``votes``) cover it."""
    canvas = np.zeros(canvas.shape, dtype=bool)
    canvas[: votes.shape[0], : votes.shape[1]] = votes
    return count_in_window(canvas, blocksize, blocksize, (blocksize - 1, blocksize - 1))


def _window_sf_energy(gray: np.ndarray, r: int) -> np.ndarray:
    """Sum of squared row and column differences inside the (2r+1)^2 window at each pixel:
    ``SF.m`` squared times the window area (same order, so the same comparisons). Defined
    where the window fits; elsewhere 0."""
    h, w = gray.shape
    n = 2 * r + 1
    row_diff = np.zeros((h, w))
    row_diff[:-1] = np.diff(gray, axis=0) ** 2  # pairs (y, y+1), stored at y
    col_diff = np.zeros((h, w))
    col_diff[:, :-1] = np.diff(gray, axis=1) ** 2
    energy = np.zeros((h, w))
    energy[r : h - r, r : w - r] = (
        _valid_box(row_diff, n - 1, n)[: h - 2 * r, : w - 2 * r] + _valid_box(col_diff, n, n - 1)[: h - 2 * r, : w - 2 * r]
    )
    return energy


def _valid_box(values: np.ndarray, height: int, width: int) -> np.ndarray:
    """Sums over all height x width windows fully inside ``values`` (top-left indexed)."""
    integral = np.zeros((values.shape[0] + 1, values.shape[1] + 1))
    integral[1:, 1:] = values.cumsum(axis=0).cumsum(axis=1)
    return integral[height:, width:] - integral[:-height, width:] - integral[height:, :-width] + integral[:-height, :-width]


def _match_descriptors(sift_a: _DenseSift, sift_b: _DenseSift, rows, cols, r: int):
    """For each pixel (rows, cols): the position of the nearest descriptor of B to A's
    descriptor there, searched in the (2r+1)^2 neighbourhood, and the same from B to A.
    Descriptors are built once, for the pixels within ``r`` of a query pixel."""
    h, w = sift_a.shape
    near = np.zeros((h, w), dtype=bool)
    near[rows, cols] = True
    near = ndimage.binary_dilation(near, structure=np.ones((2 * r + 1, 2 * r + 1), dtype=bool))
    index = np.full((h, w), -1, dtype=np.int64)
    near_rows, near_cols = np.nonzero(near)
    index[near_rows, near_cols] = np.arange(near_rows.size)
    desc_a = sift_a.descriptors(near_rows, near_cols)
    desc_b = sift_b.descriptors(near_rows, near_cols)
    at_query = index[rows, cols]
    return (
        _nearest(desc_a[at_query], desc_b, index, rows, cols, r),
        _nearest(desc_b[at_query], desc_a, index, rows, cols, r),
    )


def _nearest(query: np.ndarray, target: np.ndarray, index: np.ndarray, rows, cols, r: int):
    """Argmin over the (2r+1)^2 offsets of the squared distance between ``query[i]`` and the
    ``target`` descriptor at (rows[i] + dy, cols[i] + dx); ties go to the first offset in
    MATLAB's column-major ``find`` order. Distances are ``|t|^2 + |q|^2 - 2 t.q`` in float32
    (the authors use single precision too; exact ties such as all-zero descriptors stay exact)."""
    target_norm = np.einsum("ij,ij->i", target, target)
    query_norm = np.einsum("ij,ij->i", query, query)
    best = np.full(rows.size, np.inf, dtype=np.float32)
    best_y, best_x = rows.copy(), cols.copy()
    for dx in range(-r, r + 1):  # column-major: x outer, y inner
        for dy in range(-r, r + 1):
            at = index[rows + dy, cols + dx]
            dist = target_norm[at] + query_norm - 2 * np.einsum("ij,ij->i", np.take(target, at, axis=0), query)
            better = dist < best
            best[better] = dist[better]
            best_y[better] = rows[better] + dy
            best_x[better] = cols[better] + dx
    return best_y, best_x
