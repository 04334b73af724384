"""MATLAB-exact building blocks shared by the decision-map fusion methods (DSIFT, MWGF, IMF).

The authors' MATLAB code of these methods works on 8-bit images (values 0..255) and relies on
Image Processing Toolbox functions whose border rules and tie-breaking decide which pixels end
up in the decision map. Each helper here states the MATLAB function it reproduces and how.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from fusionbench.io import RGB2GRAY_COEFFS, round_half_away

__all__ = [
    "gray_255",
    "to_255",
    "area_open",
    "count_in_window",
    "binary_median",
    "largest_component",
    "disk_decomposition",
    "matlab_disk",
]

EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def to_255(image: np.ndarray) -> np.ndarray:
    """float [0, 1] -> float64 on the 0..255 scale of the authors' code (``double(imread(..))``)."""
    return np.asarray(image, dtype=np.float64) * 255.0


def gray_255(image: np.ndarray) -> np.ndarray:
    """Gray image on the 0..255 scale as ``double(rgb2gray(A))`` for an 8-bit RGB ``A``:
    MATLAB's weighted sum rounded half away from zero (``rgb2gray`` returns uint8 for uint8
    input). A gray (H, W) input is only rescaled. Input: float [0, 1]."""
    image = to_255(image)
    if image.ndim == 2:
        return image
    r, g, b = RGB2GRAY_COEFFS
    return round_half_away(r * image[..., 0] + g * image[..., 1] + b * image[..., 2])


def area_open(mask: np.ndarray, min_area: int) -> np.ndarray:
    """MATLAB ``bwareaopen(mask, min_area)`` (8-connected): drop the connected components of
    ``mask`` with fewer than ``min_area`` pixels."""
    labels, count = ndimage.label(mask, structure=EIGHT_CONNECTED)
    if count == 0:
        return np.zeros(mask.shape, dtype=bool)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    keep = sizes >= min_area
    keep[0] = False
    return keep[labels]


def count_in_window(mask: np.ndarray, height: int, width: int, before: tuple[int, int]) -> np.ndarray:
    """Number of true pixels of ``mask`` in the ``height`` x ``width`` window that starts
    ``before`` = (rows, cols) pixels above/left of each pixel; outside the image counts as 0."""
    h, w = mask.shape
    top, left = before
    padded = np.zeros((h + height, w + width), dtype=np.int64)
    padded[1 + top : 1 + top + h, 1 + left : 1 + left + w] = mask
    integral = padded.cumsum(axis=0).cumsum(axis=1)
    return (
        integral[height : height + h, width : width + w]
        - integral[:h, width : width + w]
        - integral[height : height + h, :w]
        + integral[:h, :w]
    )


def binary_median(mask: np.ndarray, size: int) -> np.ndarray:
    """MATLAB ``medfilt2(double(mask), [size size])`` tested for non-zero, zero padding.

    ``ordfilt2`` centres an even window at 1-based ``floor((size + 1) / 2)`` (rows and columns
    ``-(size-1)//2 .. size//2`` around the pixel). For an even window ``medfilt2`` returns the
    mean of the two middle order statistics, which is non-zero as soon as half the window is
    set; for an odd window the median is set when more than half is.
    """
    before = (size - 1) // 2
    counts = count_in_window(mask, size, size, (before, before))
    return counts >= (size * size + 1) // 2


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected component of ``mask`` (MATLAB ``bwlabel`` + first maximum of
    the label histogram: ties go to the component met first in column-major order).
    All-false input gives an all-false result."""
    labels, count = ndimage.label(mask.T, structure=EIGHT_CONNECTED)  # transposed: column-major scan
    if count == 0:
        return np.zeros(mask.shape, dtype=bool)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    sizes[0] = 0
    return (labels == int(np.argmax(sizes))).T


def disk_decomposition(radius: int) -> list[np.ndarray]:
    """MATLAB ``strel('disk', radius)`` (default ``N = 4``) as the structuring elements whose
    Minkowski sum it is.

    Radii below 3: the exact Euclidean disk (one element). Larger radii: MATLAB's radial
    decomposition (Adams 1993; Jones & Soille 1996), four periodic lines along (1,0), (1,1),
    (0,1), (-1,1) with ``floor(k / |v|)`` repetitions each way,
    ``k = 2r / (cot(pi/8) + 1/sin(pi/8))``, then horizontal and vertical lines of length
    ``2(r - reached) - 1`` when that is at least 3: an octagon, not a disk.
    """
    if radius < 3:
        y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1]
        return [x * x + y * y <= radius * radius]
    k = 2 * radius / (1 / np.tan(np.pi / 8) + 1 / np.sin(np.pi / 8))
    parts = []
    reached = 0
    for vy, vx in ((1, 0), (1, 1), (0, 1), (-1, 1)):
        reps = int(np.floor(k / np.hypot(vy, vx)))
        line = np.zeros((2 * reps * abs(vy) + 1, 2 * reps * abs(vx) + 1), dtype=bool)
        for j in range(-reps, reps + 1):
            line[reps * abs(vy) + j * vy, reps * abs(vx) + j * vx] = True
        parts.append(line)
        reached += reps * abs(vy)
    length = 2 * (radius - reached - 1) + 1
    if length >= 3:
        parts += [np.ones((1, length), dtype=bool), np.ones((length, 1), dtype=bool)]
    return parts


def matlab_disk(radius: int) -> np.ndarray:
    """Neighbourhood of MATLAB ``strel('disk', radius)``: the Minkowski sum of
    :func:`disk_decomposition`."""
    nhood = np.ones((1, 1), dtype=bool)
    for part in disk_decomposition(radius):
        # Minkowski sum = full 2-D convolution > 0; a few shifted ORs (no scipy.signal import,
        # which costs over a second at start-up).
        grown = np.zeros((nhood.shape[0] + part.shape[0] - 1, nhood.shape[1] + part.shape[1] - 1), dtype=bool)
        for i, j in np.argwhere(part):
            grown[i : i + nhood.shape[0], j : j + nhood.shape[1]] |= nhood
        nhood = grown
    return nhood
