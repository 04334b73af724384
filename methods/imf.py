"""Image-matting fusion, IMF (S. Li, X. Kang, J. Hu, B. Yang, "Image matting for fusion of
multi-focus images in dynamic scenes", Information Fusion 14(2):147-162, 2013).

The steps and constants follow the authors' MATLAB code (X. Kang's ``IFM.m``, which calls
A. Levin's closed-form matting code ``solveAlphaC2F.m``), on the 0..255 scale:

1. Focus measure: ``D = max(G - open(G), close(G) - G)`` with MATLAB ``strel('disk', 2)``
   (13 pixels) on the gray images ``G`` (MATLAB ``rgb2gray`` of the 8-bit sources).
2. Trimap: ``R_A = D_A > D_B``, 8 x 8 median filter, 5 iterations of MATLAB's
   ``bwmorph(.., 'skel')`` thinning, 8 x 8 median filter again, then set where
   ``D_A - D_B > 127``; likewise ``R_B``. The trimap is 1 (A) where only ``R_A`` is set,
   0 (B) where only ``R_B`` is set, unknown elsewhere.
3. Alpha matte of source A with the trimap as constraints: closed-form matting (Levin,
   Lischinski, Weiss, TPAMI 2008) with 3 x 3 windows, ``epsilon`` = 1e-7, constraint weight
   100, solved coarse-to-fine as ``solveAlphaC2F`` does with ``active_levels_num = 1``: the
   image (and trimap) is reduced ``levels - 1`` times by the 5-tap binomial filter and
   2x subsampling (``levels`` = 1, 2, 3, 4 for images up to 256^2, 512^2, 768^2 pixels and
   larger), the matting Laplacian is solved only at the coarsest level (sparse assembly of
   all windows at once, sparse LU of ``scipy.sparse.linalg.splu``), and the matte is brought back to
   full size by fitting the local linear model ``alpha = a . I + b`` in each 3 x 3 window of
   the coarse image and interpolating the coefficients (``upSampleAlphaUsingImg``).
4. ``F = alpha A + (1 - q(alpha)) B`` with ``q`` the 8-bit quantisation of the authors'
   ``AlpF`` (``uint8(alpha * 255) / 255``, which also clips); the first term uses the matte
   unclipped, as theirs does.

Colour (``color = "native"``): as in the authors' code, the trimap comes from the gray
images, the matte is computed on the RGB source A, and every channel is fused with it.
Validation against the authors' outputs on the 20 Lytro pairs: ``reports/validation/imf.md``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy import ndimage, sparse
from scipy.sparse.linalg import splu

from fusionbench.registry import FusionMethod, register_method

from ._decision_maps import binary_median, gray_255, matlab_disk

_MEDIAN_SIZE = 8
_THINNING_ITERATIONS = 5
_STRONG_DIFFERENCE = 127
_CONSTRAINT_WEIGHT = 100.0  # lambda of solveAlpha.m
_BINOMIAL = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0

# MATLAB bwmorph(.., 'skel') applies these eight 3x3 hit-or-miss templates in turn
# (images.internal.lutskel 1..8): a foreground centre pixel is removed when its neighbours
# match (1 = foreground, 0 = background, -1 = either). Pixels outside the image are 0.
_THINNING_TEMPLATES = (
    ((1, 1, 1), (-1, 1, -1), (0, 0, 0)),
    ((-1, 1, -1), (0, 1, 1), (0, 0, -1)),
    ((1, -1, 0), (1, 1, 0), (1, -1, 0)),
    ((-1, 1, -1), (1, 1, 0), (-1, 0, 0)),
    ((0, -1, 1), (0, 1, 1), (0, -1, 1)),
    ((-1, 0, 0), (1, 1, 0), (-1, 1, -1)),
    ((0, 0, 0), (-1, 1, -1), (1, 1, 1)),
    ((0, 0, -1), (0, 1, 1), (-1, 1, -1)),
)


@register_method(
    "imf",
    family="spatial",
    reference="Li, Kang, Hu & Yang, Image matting for fusion of multi-focus images in dynamic scenes, "
    "Information Fusion 14(2), 2013",
)
class ImageMattingFusion(FusionMethod):
    """IMF: morphological focus measure, trimap, closed-form matting of source A."""

    color: ClassVar[str] = "native"
    clip_output: ClassVar[bool] = True  # reconstruction overshoots [0, 1]; the authors save 8-bit

    disk_radius: int = 2
    epsilon: float = 1e-7
    levels: int | None = None  # None: chosen from the image size as the authors' AlpE does

    def __post_init__(self) -> None:
        if not isinstance(self.disk_radius, (int, np.integer)) or self.disk_radius < 1:
            raise ValueError(f"imf: disk_radius must be a positive integer, got {self.disk_radius!r}")
        if not self.epsilon > 0:
            raise ValueError(f"imf: epsilon must be > 0, got {self.epsilon!r}")
        if self.levels is not None and (not isinstance(self.levels, (int, np.integer)) or self.levels < 1):
            raise ValueError(f"imf: levels must be None or a positive integer, got {self.levels!r}")

    def fuse_color(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        alpha = self.alpha_matte(a, b)
        quantised = np.clip(np.floor(alpha * 255.0 + 0.5), 0.0, 255.0) / 255.0
        if a.ndim == 3:
            alpha, quantised = alpha[..., np.newaxis], quantised[..., np.newaxis]
        return (a * alpha + b * (1.0 - quantised)).astype(np.float32)

    def trimap(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """1 where A is surely focused, 0 where B is, 0.5 unknown (``TriG``)."""
        focus_a, focus_b = (_morphological_focus(gray_255(x), self.disk_radius) for x in (a, b))
        sure_a = _focus_region(focus_a, focus_b)
        sure_b = _focus_region(focus_b, focus_a)
        trimap = np.full(focus_a.shape, 0.5)
        trimap[sure_a & ~sure_b] = 1.0
        trimap[sure_b & ~sure_a] = 0.0
        return trimap

    def alpha_matte(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Matte of source A (float64, not clipped: the linear upsampling can overshoot)."""
        trimap = self.trimap(a, b)
        known = (trimap != 0.5).astype(np.float64)
        values = (trimap == 1.0).astype(np.float64)
        image = np.asarray(a, dtype=np.float64)
        if image.ndim == 2:
            image = image[..., np.newaxis]
        levels = self.levels if self.levels is not None else _default_levels(image.shape[0] * image.shape[1])
        return _solve_coarse_to_fine(image, known, values, levels, self.epsilon)


def _default_levels(pixels: int) -> int:
    """``AlpE``: 4 levels above 768^2 pixels, 3 above 512^2, 2 above 256^2, else 1."""
    for levels, limit in ((4, 768 * 768), (3, 512 * 512), (2, 256 * 256)):
        if pixels > limit:
            return levels
    return 1


def _morphological_focus(gray: np.ndarray, radius: int) -> np.ndarray:
    """``MorF``: max of the white and black top-hats with ``strel('disk', radius)``, rounded
    to 8 bits (MATLAB erosion/dilation ignore pixels outside the image)."""
    disk = matlab_disk(radius)
    eroded = ndimage.grey_erosion(gray, footprint=disk, mode="constant", cval=np.inf)
    opened = ndimage.grey_dilation(eroded, footprint=disk, mode="constant", cval=-np.inf)
    dilated = ndimage.grey_dilation(gray, footprint=disk, mode="constant", cval=-np.inf)
    closed = ndimage.grey_erosion(dilated, footprint=disk, mode="constant", cval=np.inf)
    return np.clip(np.floor(np.maximum(gray - opened, closed - gray) + 0.5), 0, 255)


def _focus_region(focus: np.ndarray, other: np.ndarray) -> np.ndarray:
    """``TriG`` for one source: strictly larger focus measure, median, thinning, median,
    plus every pixel where the focus measure exceeds the other's by more than 127."""
    region = binary_median(focus > other, _MEDIAN_SIZE)
    region = _thin(region, _THINNING_ITERATIONS)
    region = binary_median(region, _MEDIAN_SIZE)
    return region | (focus - other > _STRONG_DIFFERENCE)


def _thin(mask: np.ndarray, iterations: int) -> np.ndarray:
    """MATLAB ``bwmorph(mask, 'skel', iterations)``: each iteration applies the eight
    templates of ``_THINNING_TEMPLATES`` one after the other (each to the whole image at
    once); stops early when an iteration changes nothing."""
    h, w = mask.shape
    current = mask.copy()
    for _ in range(iterations):
        before = current.copy()
        for template in _THINNING_TEMPLATES:
            padded = np.zeros((h + 2, w + 2), dtype=bool)
            padded[1:-1, 1:-1] = current
            match = current.copy()
            for dy in range(3):
                for dx in range(3):
                    want = template[dy][dx]
                    if want == -1 or (dy == 1 and dx == 1):
                        continue
                    neighbour = padded[dy : dy + h, dx : dx + w]
                    match &= neighbour if want == 1 else ~neighbour
            current &= ~match
        if np.array_equal(current, before):
            break
    return current


def _downsample(image: np.ndarray) -> np.ndarray:
    """``downSmpIm(I, 2)``: 5-tap binomial ``conv2(.., 'same')`` (zero padding) on each
    channel, then every second pixel from the third to the third-last."""
    out = ndimage.correlate1d(image, _BINOMIAL, axis=0, mode="constant")
    out = ndimage.correlate1d(out, _BINOMIAL, axis=1, mode="constant")
    return out[2:-2:2, 2:-2:2]


def _solve_coarse_to_fine(image, known, values, levels: int, epsilon: float) -> np.ndarray:
    """``solveAlphaC2F(I, consts_map, consts_vals, levels, 1)``: solve at the coarsest level,
    upsample through the finer ones (``active_levels_num = 1`` solves nowhere else)."""
    if levels > 1:
        small = _downsample(image)
        small_known = np.floor(_downsample(known) + 0.5)
        small_values = np.floor(_downsample(values) + 0.5)
        coarse = _solve_coarse_to_fine(small, small_known, small_values, levels - 1, epsilon)
        return _upsample_alpha(coarse, small, image, epsilon)
    return _solve_alpha(image, known, values, epsilon)


def _window_statistics(image: np.ndarray):
    """Per 3 x 3 window (centres away from the border): the 9 pixel indices, the mean colour
    and the colour covariance with the 1/9 normalisation of ``getLaplacian1``."""
    h, w, c = image.shape
    offsets = [(dy, dx) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]  # MATLAB column-major window order
    centre_y, centre_x = np.mgrid[1 : h - 1, 1 : w - 1]
    colours = np.stack([image[1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx] for dy, dx in offsets], axis=2)
    indices = np.stack([(centre_y + dy) * w + (centre_x + dx) for dy, dx in offsets], axis=2)
    mean = _window_sums(image) / 9.0
    products = image[..., :, np.newaxis] * image[..., np.newaxis, :]
    cov = _window_sums(products) / 9.0 - mean[..., :, np.newaxis] * mean[..., np.newaxis, :]
    return colours, indices, mean, cov


def _matting_laplacian(image: np.ndarray, known: np.ndarray, epsilon: float) -> tuple[sparse.csr_matrix, np.ndarray]:
    """``getLaplacian1``: ``L = D - A`` summed over all 3 x 3 windows whose centre is not in
    the eroded constraint map, ``A_ij = (1 + (I_i - mu) (Sigma + eps/9 I)^-1 (I_j - mu)) / 9``.
    Assembled for all windows at once. Also returns the (flat, row-major) indices of the
    pixels covered by those windows, the only ones ``L`` couples."""
    h, w, c = image.shape
    skip = ndimage.binary_erosion(known > 0, structure=np.ones((3, 3), dtype=bool), border_value=1)
    colours, indices, mean, cov = _window_statistics(image)
    active = ~skip[1:-1, 1:-1]
    colours, indices, mean, cov = colours[active], indices[active], mean[active], cov[active]
    inverse = _inverse(cov + (epsilon / 9.0) * np.eye(c))
    centred = colours - mean[:, np.newaxis, :]
    values = (1.0 + np.matmul(np.matmul(centred, inverse), centred.transpose(0, 2, 1))) / 9.0
    rows = np.repeat(indices, 9, axis=1).ravel()
    cols = np.tile(indices, (1, 9)).ravel()
    affinity = sparse.csr_matrix((values.ravel(), (rows, cols)), shape=(h * w, h * w))
    degree = np.asarray(affinity.sum(axis=1)).ravel()
    return sparse.diags(degree) - affinity, np.unique(indices)


def _inverse(matrices: np.ndarray) -> np.ndarray:
    """Inverses of a stack of small symmetric matrices; 1x1 and 3x3 (gray and RGB) in closed
    form (adjugate / determinant), which is much faster than a LAPACK call per matrix."""
    c = matrices.shape[-1]
    if c == 1:
        return 1.0 / matrices
    if c != 3:
        return np.linalg.inv(matrices)
    m = matrices
    adj = np.empty_like(m)
    adj[:, 0, 0] = m[:, 1, 1] * m[:, 2, 2] - m[:, 1, 2] * m[:, 2, 1]
    adj[:, 0, 1] = m[:, 0, 2] * m[:, 2, 1] - m[:, 0, 1] * m[:, 2, 2]
    adj[:, 0, 2] = m[:, 0, 1] * m[:, 1, 2] - m[:, 0, 2] * m[:, 1, 1]
    adj[:, 1, 0] = m[:, 1, 2] * m[:, 2, 0] - m[:, 1, 0] * m[:, 2, 2]
    adj[:, 1, 1] = m[:, 0, 0] * m[:, 2, 2] - m[:, 0, 2] * m[:, 2, 0]
    adj[:, 1, 2] = m[:, 0, 2] * m[:, 1, 0] - m[:, 0, 0] * m[:, 1, 2]
    adj[:, 2, 0] = m[:, 1, 0] * m[:, 2, 1] - m[:, 1, 1] * m[:, 2, 0]
    adj[:, 2, 1] = m[:, 0, 1] * m[:, 2, 0] - m[:, 0, 0] * m[:, 2, 1]
    adj[:, 2, 2] = m[:, 0, 0] * m[:, 1, 1] - m[:, 0, 1] * m[:, 1, 0]
    det = m[:, 0, 0] * adj[:, 0, 0] + m[:, 0, 1] * adj[:, 1, 0] + m[:, 0, 2] * adj[:, 2, 0]
    return adj / det[:, np.newaxis, np.newaxis]


def _solve_alpha(image, known, values, epsilon: float) -> np.ndarray:
    """``solveAlpha``: ``(L + 100 D) x = 100 D v``, clipped to [0, 1].

    Pixels in no active window have an empty Laplacian row and column, so their equation is
    ``x = v``; the sparse direct solve (SuperLU, symmetric mode) is run on the others only.
    Without any constraint (identical sources) the problem is singular; the matte is then 0.5.
    """
    h, w, _ = image.shape
    if not known.any():
        return np.full((h, w), 0.5)
    laplacian, coupled = _matting_laplacian(image, known, epsilon)
    weights = _CONSTRAINT_WEIGHT * known.ravel()
    alpha = values.ravel().astype(np.float64)
    if coupled.size:
        system = (laplacian[coupled][:, coupled] + sparse.diags(weights[coupled])).tocsc()
        # Symmetric positive definite: symmetric ordering, diagonal pivots.
        solver = splu(system, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
        alpha[coupled] = solver.solve(weights[coupled] * alpha[coupled])
    return np.clip(alpha.reshape(h, w), 0.0, 1.0)


def _window_sums(values: np.ndarray) -> np.ndarray:
    """Sums over the 3 x 3 window around each pixel away from the border: (h-2, w-2, ...)."""
    rows = values[:-2] + values[1:-1] + values[2:]
    return rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]


def _linear_coefficients(alpha: np.ndarray, image: np.ndarray, epsilon: float) -> np.ndarray:
    """``getLinearCoeff``: per 3 x 3 window, the ridge fit ``alpha ~ a . I + b`` (ridge
    ``epsilon`` on ``a``), from window sums of the normal equations; border coefficients
    copied from the nearest inner row/column."""
    h, w, c = image.shape
    products = image[..., :, np.newaxis] * image[..., np.newaxis, :]
    gram = np.empty((h - 2, w - 2, c + 1, c + 1))
    gram[..., :c, :c] = _window_sums(products) + epsilon * np.eye(c)
    gram[..., :c, c] = gram[..., c, :c] = _window_sums(image)
    gram[..., c, c] = 9.0
    rhs = np.empty((h - 2, w - 2, c + 1))
    rhs[..., :c] = _window_sums(image * alpha[..., np.newaxis])
    rhs[..., c] = _window_sums(alpha)
    coeff = np.zeros((h, w, c + 1))
    coeff[1:-1, 1:-1] = np.linalg.solve(gram, rhs[..., np.newaxis])[..., 0]
    coeff[0], coeff[-1] = coeff[1], coeff[-2]
    coeff[:, 0], coeff[:, -1] = coeff[:, 1], coeff[:, -2]
    return coeff


def _upsample_coefficients(coeff: np.ndarray, height: int, width: int) -> np.ndarray:
    """``upSmpIm(coeff, [height width])``: the coarse samples on every second pixel of a
    1-pixel-padded grid (offset by ``floor((n - 2m + 1) / 2)``), edge samples repeated
    outwards, [1 2 1]/2 interpolation (zero padding), padding removed."""
    grid = coeff
    for axis, new in ((0, height), (1, width)):
        old = grid.shape[axis]
        before = (new - 2 * old + 1) // 2
        after = -((-(new - 2 * old + 1)) // 2)
        padded_len = new + 2
        shape = list(grid.shape)
        shape[axis] = padded_len
        out = np.zeros(shape)
        take = [slice(None)] * out.ndim
        first = before + 1  # 0-based position of the first coarse sample
        last = padded_len - after - 2
        take[axis] = slice(first, last + 1, 2)
        out[tuple(take)] = grid
        for position in range(first - 2, -1, -2):
            _copy_line(out, axis, position, first)
        for position in range(last + 2, padded_len, 2):
            _copy_line(out, axis, position, last)
        out = ndimage.correlate1d(out, np.array([0.5, 1.0, 0.5]), axis=axis, mode="constant")
        crop = [slice(None)] * out.ndim
        crop[axis] = slice(1, -1)
        grid = out[tuple(crop)]
    return grid


def _copy_line(array: np.ndarray, axis: int, target: int, source: int) -> None:
    index_t = [slice(None)] * array.ndim
    index_s = [slice(None)] * array.ndim
    index_t[axis], index_s[axis] = target, source
    array[tuple(index_t)] = array[tuple(index_s)]


def _upsample_alpha(alpha: np.ndarray, small: np.ndarray, image: np.ndarray, epsilon: float) -> np.ndarray:
    """``upSampleAlphaUsingImg``: coarse linear coefficients, interpolated, applied to the fine image."""
    coeff = _upsample_coefficients(_linear_coefficients(alpha, small, epsilon), image.shape[0], image.shape[1])
    return coeff[..., -1] + np.einsum("yxc,yxc->yx", coeff[..., :-1], image)
