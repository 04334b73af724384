"""Dual-tree complex wavelet transform fusion (J. J. Lewis, R. J. O'Callaghan, S. G. Nikolov,
D. R. Bull, N. Canagarajah, "Pixel- and region-based image fusion with complex wavelets",
Information Fusion 8(2):119-130, 2007; transform: N. G. Kingsbury, "Complex wavelets for
shift invariant analysis and filtering of signals", Appl. Comput. Harmon. Anal. 10(3), 2001).

Both sources are decomposed by the 2-D DTCWT (6 oriented complex subbands per level); the
lowpass is averaged and each complex highpass coefficient is chosen by max-abs (larger
magnitude, the pixel-based rule of Lewis et al.); the inverse DTCWT reconstructs.

The filters are Kingsbury's, loaded from the ``dtcwt`` package (``dtcwt.coeffs``). The
transform itself is implemented here with numpy: the ``dtcwt`` package's own transform
(0.14.0, the latest release) calls functions that NumPy 2 removed (``np.asfarray``,
``np.issubsctype``). It follows the package's conventions exactly - same filters, symmetric
extensions, subband order and odd-size handling; ``tests/test_methods_transforms.py`` checks
the coefficients against the package run under a NumPy-1 compatibility shim.

Parameters: ``levels`` (default 4; reduced for small images), ``biort`` (level-1 filters,
default ``"near_sym_b"``), ``qshift`` (filters of levels >= 2, default ``"qshift_b"``).
Fusing an image with itself returns it (perfect reconstruction, error ~1e-7 in float32).
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple

import numpy as np
from scipy import ndimage

from fusionbench.registry import FusionMethod, register_method

from ._pyramid import select_max_abs

__all__ = ["DTCWTFusion", "dtcwt_forward", "dtcwt_inverse", "DTCWTPyramid"]

BIORT_FILTERS = ("antonini", "legall", "near_sym_a", "near_sym_b")
QSHIFT_FILTERS = ("qshift_06", "qshift_a", "qshift_b", "qshift_c", "qshift_d")


class DTCWTPyramid(NamedTuple):
    """``lowpass`` (h, w) and ``highpasses``: one (h_k, w_k, 6) complex array per level, the
    subbands ordered 15, 45, 75, 105, 135, 165 degrees (as in the ``dtcwt`` package)."""

    lowpass: np.ndarray
    highpasses: tuple[np.ndarray, ...]
    shape: tuple[int, int]


def _filters(biort: str, qshift: str):
    from dtcwt.coeffs import biort as load_biort
    from dtcwt.coeffs import qshift as load_qshift

    level1 = tuple(np.asarray(h, dtype=np.float64).ravel() for h in load_biort(biort))
    higher = tuple(np.asarray(h, dtype=np.float64).ravel() for h in load_qshift(qshift))
    return level1, higher


def _filter(x: np.ndarray, h: np.ndarray, axis: int) -> np.ndarray:
    """Odd-length filter, output aligned with the input, half-sample symmetric extension."""
    return ndimage.convolve1d(x, h, axis=axis, mode="reflect")


def _filter_decimate(x: np.ndarray, ha: np.ndarray, hb: np.ndarray, axis: int) -> np.ndarray:
    """Two-tree q-shift filtering with decimation by 2 along ``axis`` (length multiple of 4).

    With X extended half-sample symmetrically, the two trees give
    ``Ya[k] = sum_n ha[n] X[4k + m - 2n]`` and ``Yb[k] = sum_n hb[n] X[4k + m + 1 - 2n]``
    (m = filter length), interleaved (Ya first when ``sum(ha * hb) > 0``).
    """
    x = np.ascontiguousarray(np.moveaxis(x, axis, 0))  # whole rows: contiguous slices below
    r, m = x.shape[0], len(ha)
    padded = np.pad(x, [(m, m)] + [(0, 0)] * (x.ndim - 1), mode="symmetric")
    quarter = r // 4

    def tree(h: np.ndarray, shift: int) -> np.ndarray:
        out = np.zeros((quarter,) + x.shape[1:], dtype=x.dtype)
        for n, coeff in enumerate(h):
            start = 2 * m - 2 * n + shift
            out += x.dtype.type(coeff) * padded[start : start + 4 * quarter : 4]
        return out

    ya, yb = tree(ha, 0), tree(hb, 1)
    y = np.empty((2 * quarter,) + x.shape[1:], dtype=x.dtype)
    first, second = (ya, yb) if np.sum(ha * hb) > 0 else (yb, ya)
    y[0::2], y[1::2] = first, second
    return np.ascontiguousarray(np.moveaxis(y, 0, axis))


def _filter_interpolate(x: np.ndarray, ha: np.ndarray, hb: np.ndarray, axis: int) -> np.ndarray:
    """Inverse of :func:`_filter_decimate`'s sampling: two-tree q-shift filtering with
    interpolation by 2 along ``axis`` (even length). Each output sample in a group of four is
    one polyphase component of ``ha`` or ``hb`` applied to every second extended input."""
    x = np.ascontiguousarray(np.moveaxis(x, axis, 0))
    r, m = x.shape[0], len(ha)
    half, taps = m // 2, m // 2
    padded = np.pad(x, [(half, half)] + [(0, 0)] * (x.ndim - 1), mode="symmetric")
    ha_first = np.sum(ha * hb) > 0
    count = r // 2

    def phase(h: np.ndarray, offset: int) -> np.ndarray:
        # sum_i h[i] * padded[offset + 2 * (j + taps - 1 - i)], j = 0 .. count-1
        out = np.zeros((count,) + x.shape[1:], dtype=x.dtype)
        for i, coeff in enumerate(h):
            start = offset + 2 * (taps - 1 - i)
            out += x.dtype.type(coeff) * padded[start : start + 2 * count : 2]
        return out

    if half % 2 == 1:
        off_a, off_b = (2, 1) if ha_first else (1, 2)
        parts = (phase(ha[0::2], off_b), phase(hb[0::2], off_a), phase(ha[1::2], off_b), phase(hb[1::2], off_a))
    else:
        off_a, off_b = (3, 2) if ha_first else (2, 3)
        parts = (phase(ha[1::2], off_b - 2), phase(hb[1::2], off_a - 2), phase(ha[0::2], off_b), phase(hb[0::2], off_a))
    y = np.empty((2 * r,) + x.shape[1:], dtype=x.dtype)
    for k, part in enumerate(parts):
        y[k::4] = part
    return np.ascontiguousarray(np.moveaxis(y, 0, axis))


def _quads_to_complex(y: np.ndarray) -> np.ndarray:
    """2x2 quads (a b / c d) of a real subband image -> the two complex subbands
    ``(p - q, p + q)`` with ``p = (a + jb)/sqrt2``, ``q = (d - jc)/sqrt2``."""
    complex_type = np.result_type(y.dtype, np.complex64)
    s = y.dtype.type(np.sqrt(0.5))
    p = np.empty(y[0::2, 0::2].shape, dtype=complex_type)
    p.real, p.imag = y[0::2, 0::2], y[0::2, 1::2]
    q = np.empty_like(p)
    q.real, q.imag = y[1::2, 1::2], -y[1::2, 0::2]
    out = np.empty(p.shape + (2,), dtype=complex_type)
    np.subtract(p, q, out=out[..., 0])
    np.add(p, q, out=out[..., 1])
    out *= s
    return out


def _complex_to_quads(w: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_quads_to_complex` for the pair ``w[..., 0], w[..., 1]``."""
    s = w.real.dtype.type(np.sqrt(0.5))
    p = (w[..., 0] + w[..., 1]) * s
    q = (w[..., 0] - w[..., 1]) * s
    out = np.empty((2 * w.shape[0], 2 * w.shape[1]), dtype=w.real.dtype)
    out[0::2, 0::2], out[0::2, 1::2] = p.real, p.imag
    out[1::2, 0::2], out[1::2, 1::2] = q.imag, -q.real
    return out


def _subbands(horizontal: np.ndarray, vertical: np.ndarray, diagonal: np.ndarray) -> np.ndarray:
    pairs = (_quads_to_complex(horizontal), _quads_to_complex(vertical), _quads_to_complex(diagonal))
    out = np.empty(pairs[0].shape[:2] + (6,), dtype=pairs[0].dtype)
    out[..., [0, 5]], out[..., [2, 3]], out[..., [1, 4]] = pairs
    return out


def dtcwt_levels(shape: tuple[int, int], levels: int) -> int:
    """``levels`` reduced so that every level's lowpass keeps at least 8 samples a side."""
    size, depth = min(shape) + min(shape) % 2, 1
    while depth < levels and size >= 16:
        size = (size + (-size) % 4) // 2
        depth += 1
    return depth


def dtcwt_forward(image: np.ndarray, levels: int = 4, biort: str = "near_sym_b", qshift: str = "qshift_b") -> DTCWTPyramid:
    """2-D DTCWT of a gray image (float32 stays float32)."""
    (h0o, _, h1o, _), (h0a, h0b, _, _, h1a, h1b, _, _) = _filters(biort, qshift)
    x = np.asarray(image)
    if x.dtype != np.float32:
        x = x.astype(np.float64)
    shape = x.shape
    if shape[0] % 2:  # odd sizes: repeat the last row / column
        x = np.concatenate([x, x[-1:]], axis=0)
    if shape[1] % 2:
        x = np.concatenate([x, x[:, -1:]], axis=1)
    highpasses = []
    lo, hi = _filter(x, h0o, 0), _filter(x, h1o, 0)
    lowpass = _filter(lo, h0o, 1)
    highpasses.append(_subbands(_filter(hi, h0o, 1), _filter(lo, h1o, 1), _filter(hi, h1o, 1)))
    for _ in range(1, levels):
        if lowpass.shape[0] % 4:
            lowpass = np.concatenate([lowpass[:1], lowpass, lowpass[-1:]], axis=0)
        if lowpass.shape[1] % 4:
            lowpass = np.concatenate([lowpass[:, :1], lowpass, lowpass[:, -1:]], axis=1)
        lo, hi = _filter_decimate(lowpass, h0b, h0a, 0), _filter_decimate(lowpass, h1b, h1a, 0)
        lowpass = _filter_decimate(lo, h0b, h0a, 1)
        highpasses.append(
            _subbands(_filter_decimate(hi, h0b, h0a, 1), _filter_decimate(lo, h1b, h1a, 1), _filter_decimate(hi, h1b, h1a, 1))
        )
    return DTCWTPyramid(lowpass, tuple(highpasses), shape)


def dtcwt_inverse(pyramid: DTCWTPyramid, biort: str = "near_sym_b", qshift: str = "qshift_b") -> np.ndarray:
    """Inverse of :func:`dtcwt_forward`, cropped to the original image size."""
    (_, g0o, _, g1o), (_, _, g0a, g0b, _, _, g1a, g1b) = _filters(biort, qshift)
    z = pyramid.lowpass
    highpasses = pyramid.highpasses
    for level in range(len(highpasses) - 1, 0, -1):
        band = highpasses[level]
        lh, hl, hh = (_complex_to_quads(band[..., idx]) for idx in ([0, 5], [2, 3], [1, 4]))
        y1 = _filter_interpolate(z, g0b, g0a, 0) + _filter_interpolate(lh, g1b, g1a, 0)
        y2 = _filter_interpolate(hl, g0b, g0a, 0) + _filter_interpolate(hh, g1b, g1a, 0)
        z = _filter_interpolate(y1, g0b, g0a, 1) + _filter_interpolate(y2, g1b, g1a, 1)
        target = 2 * np.array(highpasses[level - 1].shape[:2])
        if z.shape[0] != target[0]:  # undo the extension made to reach a multiple of 4
            z = z[1:-1]
        if z.shape[1] != target[1]:
            z = z[:, 1:-1]
    band = highpasses[0]
    lh, hl, hh = (_complex_to_quads(band[..., idx]) for idx in ([0, 5], [2, 3], [1, 4]))
    y1 = _filter(z, g0o, 0) + _filter(lh, g1o, 0)
    y2 = _filter(hl, g0o, 0) + _filter(hh, g1o, 0)
    z = _filter(y1, g0o, 1) + _filter(y2, g1o, 1)
    return z[: pyramid.shape[0], : pyramid.shape[1]]


@register_method("dtcwt", family="multi-scale", reference="Lewis et al., Information Fusion 8(2), 2007 (DTCWT: Kingsbury 2001)")
class DTCWTFusion(FusionMethod):
    """DTCWT: average the lowpass, max-abs (magnitude) the complex highpasses."""

    clip_output: ClassVar[bool] = True  # reconstruction overshoots [0, 1]; the authors save 8-bit

    levels: int = 4
    biort: str = "near_sym_b"
    qshift: str = "qshift_b"

    def __post_init__(self) -> None:
        if not isinstance(self.levels, (int, np.integer)) or self.levels < 1:
            raise ValueError(f"dtcwt: levels must be an integer >= 1, got {self.levels!r}")
        if self.biort not in BIORT_FILTERS:
            raise ValueError(f"dtcwt: unknown biort filters {self.biort!r}; one of {BIORT_FILTERS}")
        if self.qshift not in QSHIFT_FILTERS:
            raise ValueError(f"dtcwt: unknown qshift filters {self.qshift!r}; one of {QSHIFT_FILTERS}")

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        levels = dtcwt_levels(a.shape, self.levels)
        pa = dtcwt_forward(a, levels, self.biort, self.qshift)
        pb = dtcwt_forward(b, levels, self.biort, self.qshift)
        lowpass = (pa.lowpass + pb.lowpass) * pa.lowpass.dtype.type(0.5)
        highpasses = tuple(select_max_abs(ha, hb) for ha, hb in zip(pa.highpasses, pb.highpasses))
        return dtcwt_inverse(DTCWTPyramid(lowpass, highpasses, pa.shape), self.biort, self.qshift)
