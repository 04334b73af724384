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

import math

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
    "sum_sequential",
    "sum_sum",
    "filter2_valid_flat",
    "fma",
    "blocks",
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
    (< eps * max) zeroed, normalised to sum 1.

    Bit for bit as GNU Octave's image package computes it: libm ``exp`` per element (numpy's
    vectorised ``exp`` may differ by an ulp) and the sum taken in column-major order, one term
    after another. (Octave does not zero tiny values; that only matters for windows much wider
    than ``sigma``.)"""
    rows, cols = (size, size) if np.isscalar(size) else size
    y = np.arange(rows, dtype=np.float64) - (rows - 1) / 2.0
    x = np.arange(cols, dtype=np.float64) - (cols - 1) / 2.0
    exponent = -(x[np.newaxis, :] ** 2 + y[:, np.newaxis] ** 2) / (2.0 * sigma * sigma)
    h = np.array([math.exp(v) for v in exponent.ravel()]).reshape(exponent.shape)
    h[h < np.finfo(np.float64).eps * h.max()] = 0.0
    total = sum_sequential(h.ravel(order="F"))
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


def sum_sequential(values: np.ndarray) -> float:
    """``sum(v)`` of a vector as Octave computes it: left to right, one term after another
    (numpy's ``sum`` adds pairwise, which rounds differently)."""
    values = np.asarray(values, dtype=np.float64)
    return float(np.cumsum(values)[-1]) if values.size else 0.0


def sum_sum(matrix: np.ndarray) -> float:
    """``sum(sum(M))`` as Octave computes it: each column summed top to bottom, then the
    column sums left to right."""
    matrix = np.asarray(matrix, dtype=np.float64)
    return sum_sequential(np.cumsum(matrix, axis=0)[-1])


def fma(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Fused multiply-add ``a * b + c`` with a single rounding, exact for every finite double
    input whose product neither overflows nor underflows (numpy has no ``fma``).

    Boldo & Melquiond's emulation ("Emulation of FMA and correctly rounded sums: proved
    algorithms using rounding to odd", IEEE Trans. Computers 57(4), 2008): split the product
    exactly (Dekker), add ``c`` exactly (TwoSum), round the low-order part to odd, then round the
    total once to nearest."""
    a, b, c = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, b, c)))
    return _fma_presplit(a, _split(a), b, _split(b), c)


def _fma_presplit(
    a: np.ndarray, a_parts: tuple[np.ndarray, np.ndarray], b: np.ndarray, b_parts: tuple[np.ndarray, np.ndarray],
    c: np.ndarray,
) -> np.ndarray:
    """:func:`fma` with the Veltkamp splits of ``a`` and ``b`` given (reused across calls)."""
    (a_hi, a_lo), (b_hi, b_lo) = a_parts, b_parts
    product = a * b
    product_err = ((a_hi * b_hi - product) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo  # exact
    sum_hi, sum_lo = _two_sum(c, product)
    low, low_err = _two_sum(sum_lo, product_err)
    # Round to odd: when inexact and the nearest value has an even last bit, take the
    # neighbour towards the exact value instead.
    low = np.asarray(low)
    bump = (low_err != 0) & ((low.view(np.int64) & 1) == 0)
    low = np.where(bump, np.nextafter(low, np.copysign(np.inf, low_err)), low)
    return sum_hi + low


def _two_sum(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``s + e == x + y`` exactly, ``s = fl(x + y)`` (Knuth)."""
    s = x + y
    yy = s - x
    e = (x - (s - yy)) + (y - yy)
    return s, e


def _split(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Veltkamp split ``x = hi + lo`` into halves of at most 26 significant bits."""
    scaled = 134217729.0 * x  # 2**27 + 1
    hi = scaled - (scaled - x)
    return hi, x - hi


def filter2_valid_flat(window: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``filter2(window, X, 'valid')`` at outputs whose window of ``X`` is constant, with
    ``values`` the constants: bit for bit as the Octave that made the golden values rounds.

    Octave's 'valid' convolution (``dconv2i``) calls BLAS ``daxpy`` once per kernel element on
    each output column, ``c += b(i, j) * a(...)``, with the kernel ``b = rot90(window, 2)``
    traversed column by column - ``window`` in reverse column-major order - starting from 0.
    The golden values' BLAS evaluates every update as one fused multiply-add (as OpenBLAS's
    AVX-512 kernels do): Octave 7.3 with a ``daxpy`` that does so reproduces every golden value
    of the SSIM-based metrics bit for bit, whereas the reference BLAS (no FMA) and OpenBLAS's
    AVX2 kernels (no FMA in the last ``n % 16`` elements) do not. On a constant window the
    rounding residue of the result depends only on this order; it decides values such as
    ``E[x^2] - E[x]^2`` over flat regions, which SSIM with tiny constants turns into O(1) terms."""
    values = np.asarray(values, dtype=np.float64)
    # The result depends on the value only: compute each distinct value once.
    distinct, where = np.unique(values, return_inverse=True)
    distinct_parts = _split(distinct)
    total = np.zeros_like(distinct)
    for weight in np.asarray(window, dtype=np.float64).ravel(order="F")[::-1]:
        total = _fma_presplit(weight, _split(weight), distinct, distinct_parts, total)
    return total[where].reshape(values.shape)


def blocks(image: np.ndarray, size: int) -> np.ndarray:
    """The ``size x size`` blocks of ``blkproc(image, [size size], [0 0], fun)`` as an array
    ``(block_rows, size, block_cols, size)``: like MATLAB's ``blkproc``, the image is padded
    with zeros at the bottom and right to a multiple of the block size, and ``fun`` sees the
    padded blocks (reduce over axes 1 and 3)."""
    image = np.asarray(image)
    rows, cols = image.shape
    block_rows, block_cols = -(-rows // size), -(-cols // size)
    padded = np.zeros((block_rows * size, block_cols * size), dtype=image.dtype)
    padded[:rows, :cols] = image
    return padded.reshape(block_rows, size, block_cols, size)
