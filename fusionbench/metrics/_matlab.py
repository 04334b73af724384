"""MATLAB image-processing primitives, reproduced exactly (boundary rules, kernel origins).

The reference metric implementations are MATLAB code; their values depend on details such as
where ``imfilter`` puts the origin of an even-sized kernel or how ``conv2(..., 'same')`` crops.
These helpers state and reproduce those rules so that metric modules can be written as
straight translations of the published definitions.

Origins: for a kernel of length ``n`` along an axis, MATLAB ``imfilter`` (correlation) puts the
centre at 1-based index ``floor((n + 1) / 2)``; ``conv2(..., 'same')`` keeps rows
``floor(n / 2) + 1 .. floor(n / 2) + m`` of the full convolution. scipy.ndimage centres at
0-based ``n // 2``, so even-sized kernels need an origin shift, which :func:`imfilter` and
:func:`conv2` apply.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = [
    "imfilter",
    "conv2",
    "filter2",
    "fspecial_gaussian",
    "fspecial_average",
    "SOBEL",
    "matlab_round",
    "freqspace",
]

# fspecial('sobel'): emphasises horizontal edges (derivative along rows).
SOBEL = np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])

_PADDING = {"zero": "constant", "replicate": "nearest", "symmetric": "reflect", "circular": "wrap"}


def _origins_imfilter(shape: tuple[int, ...]) -> tuple[int, ...]:
    # MATLAB centres at 0-based (n - 1) // 2, scipy at n // 2 + origin.
    return tuple((n - 1) // 2 - n // 2 for n in shape)


def imfilter(image: np.ndarray, kernel: np.ndarray, padding: str = "zero") -> np.ndarray:
    """MATLAB ``imfilter(image, kernel, padding)`` on doubles: correlation, 'same' size.

    ``padding``: ``"zero"`` (MATLAB default, value 0), ``"replicate"``, ``"symmetric"``,
    ``"circular"``.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim == 1:
        kernel = kernel[np.newaxis, :]
    return ndimage.correlate(
        np.asarray(image, dtype=np.float64),
        kernel,
        mode=_PADDING[padding],
        cval=0.0,
        origin=_origins_imfilter(kernel.shape),
    )


def conv2(image: np.ndarray, kernel: np.ndarray, shape: str = "same") -> np.ndarray:
    """MATLAB ``conv2(image, kernel, shape)`` for ``shape`` in ``'same'``, ``'valid'``, ``'full'``
    (zero outside the image)."""
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim == 1:
        kernel = kernel[np.newaxis, :]
    kh, kw = kernel.shape
    if shape == "same":
        # conv2 'same' with K == correlation with flip(K) centred at 0-based (n - 1) - n // 2;
        # scipy centres at n // 2, so even lengths shift by one.
        origin = tuple(((n - 1) - n // 2) - n // 2 for n in (kh, kw))
        return ndimage.correlate(image, kernel[::-1, ::-1], mode="constant", cval=0.0, origin=origin)
    from scipy.signal import convolve2d

    if shape in ("full", "valid"):
        return convolve2d(image, kernel, mode=shape)
    raise ValueError(f"conv2: unknown shape {shape!r}")


def filter2(kernel: np.ndarray, image: np.ndarray, shape: str = "same") -> np.ndarray:
    """MATLAB ``filter2(kernel, image, shape)`` = ``conv2(image, rot90(kernel, 2), shape)``."""
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim == 1:
        kernel = kernel[np.newaxis, :]
    return conv2(image, kernel[::-1, ::-1], shape)


def fspecial_gaussian(size: int | tuple[int, int], sigma: float) -> np.ndarray:
    """MATLAB ``fspecial('gaussian', size, sigma)``: sampled Gaussian, tiny values
    (< eps * max) zeroed, normalised to sum 1."""
    rows, cols = (size, size) if np.isscalar(size) else size
    y = np.arange(rows, dtype=np.float64) - (rows - 1) / 2.0
    x = np.arange(cols, dtype=np.float64) - (cols - 1) / 2.0
    h = np.exp(-(x[np.newaxis, :] ** 2 + y[:, np.newaxis] ** 2) / (2.0 * sigma * sigma))
    h[h < np.finfo(np.float64).eps * h.max()] = 0.0
    total = h.sum()
    if total != 0:
        h /= total
    return h


def fspecial_average(size: int | tuple[int, int]) -> np.ndarray:
    """MATLAB ``fspecial('average', size)``."""
    rows, cols = (size, size) if np.isscalar(size) else size
    return np.full((rows, cols), 1.0 / (rows * cols))


def matlab_round(x: np.ndarray) -> np.ndarray:
    """MATLAB ``round``: half away from zero, exact for every double (``floor(x + 0.5)``
    is not: it rounds 0.49999999999999994 up)."""
    x = np.asarray(x, dtype=np.float64)
    magnitude = np.abs(x)
    lower = np.floor(magnitude)
    return np.copysign(lower + (magnitude - lower >= 0.5), x)


def freqspace(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """MATLAB ``[f1, f2] = freqspace([rows, cols])`` as 1-D vectors: normalised frequencies
    (1 = Nyquist) ``f1`` along columns and ``f2`` along rows, ``((0:n-1) - floor(n/2)) * (2/n)``
    for even and odd ``n`` alike. ``freqspace(n, 'meshgrid')`` is ``np.meshgrid(f1, f2)``."""
    rows, cols = shape

    def axis(n: int) -> np.ndarray:
        return (np.arange(n, dtype=np.float64) - (n // 2)) * (2.0 / n)

    return axis(cols), axis(rows)
