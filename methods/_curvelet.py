"""Fast discrete curvelet transform via wrapping, for real images (numpy, FFT-based).

Candès, Demanet, Donoho & Ying, "Fast discrete curvelet transforms", Multiscale Model. Simul.
5(3), 2006, section 3.3 ("FDCT via wrapping"). Written from the paper's description; the
layout follows CurveLab's ``fdct_wrapping`` conventions (coarsest scale first, a real-valued
coarsest lowpass, wavelets instead of curvelets at the finest scale, angles doubling every
other scale) but the windows and the wedge-to-rectangle bookkeeping are this module's own,
so coefficients are not numerically identical to CurveLab's.

Construction (frequency plane of the ``H x W`` image, integer frequencies ``k``):

* Scales. ``Phi_s(k) = phi(|k1| / R1_s) phi(|k2| / R2_s)`` with ``phi = 1`` on ``[0, 1]``,
  a Meyer-type smooth fall to ``0`` on ``[1, 2]``; ``R_s = N / (6 * 2**(J-2-s))`` per axis
  (``N`` = H or W), ``J`` = number of scales. Band ``s`` (``1 <= s <= J-2``) has the radial
  window ``W_s = sqrt(Phi_s**2 - Phi_{s-1}**2)`` (a smooth square ring between ``R_{s-1}``
  and ``4 R_{s-1}``), the finest band ``sqrt(1 - Phi_{J-2}**2)`` (from ``N/6`` to the
  Nyquist frequency) and the coarsest ``Phi_0``: the squares sum to 1.
* Angles. In band ``s`` a point's position on the boundary of the square is the pseudo-angle
  ``p`` in ``[0, 8)`` (equispaced slopes on each side, as in the paper); ``p`` is split into
  ``n_s`` equal wedges with smooth transitions one wedge wide centred on the wedge borders
  (``V_l**2`` sum to 1). ``n_s = n_angles_coarse * 2**ceil((s-1)/2)``.
* Wrapping. Each curvelet window ``U = W_s V_l`` is supported in a sheared wedge; its
  samples ``U X`` are periodised ("wrapped around the origin") into an ``L1 x L2`` rectangle
  (the smallest axis-aligned one for which the wrap is one-to-one on the support), and the
  inverse FFT of that rectangle gives the coefficients, a complex array whose samples sit on
  a grid of spacing ``H/L1 x W/L2`` in space.
* Real images. The windows of wedge ``l`` and of the opposite wedge ``l + n_s/2`` are
  mirror images, so for a real image the second is the complex conjugate of the first: only
  wedges ``0 .. n_s/2 - 1`` (pseudo-angles ``[0, 4)``, the half plane ``-45..135`` degrees)
  are stored, and the inverse adds twice the real part of their contribution.

All FFTs are unitary and ``sum U**2 = 1``, so the transform is a tight frame (Parseval) and
``inverse(forward(x)) == x`` up to rounding (about 1e-15 relative).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import fft

__all__ = ["CurveletTransform", "default_n_scales"]


def default_n_scales(shape: tuple[int, int]) -> int:
    """CurveLab's default number of scales, ``ceil(log2(min(H, W)) - 3)``, at least 2."""
    return max(2, math.ceil(math.log2(min(shape)) - 3))


def _smooth_step(t: np.ndarray) -> np.ndarray:
    """Meyer's polynomial step: 0 below 0, 1 above 1, ``nu(t) + nu(1 - t) = 1``."""
    t = np.clip(t, 0.0, 1.0)
    return t**4 * (35 - 84 * t + 70 * t**2 - 20 * t**3)


def _lowpass_1d(r: np.ndarray) -> np.ndarray:
    """1 on ``[0, 1]``, ``cos(pi/2 nu(r - 1))`` on ``[1, 2]``, exactly 0 beyond (the support
    decides which frequencies a band keeps)."""
    r = np.abs(r)
    return np.where(r < 2.0, np.cos(0.5 * np.pi * _smooth_step(r - 1.0)), 0.0)


@dataclass
class _Wedge:
    points: np.ndarray  # flat indices into the H x W spectrum
    wrapped: np.ndarray  # flat indices into the L1 x L2 rectangle
    window: np.ndarray  # U at the points
    shape: tuple[int, int]  # (L1, L2)


class CurveletTransform:
    """Curvelet transform plan for real images of one shape.

    Parameters
    ----------
    shape : (H, W), both at least 8.
    n_scales : number of scales ``J`` including the coarsest lowpass and the finest
        (wavelet) band; default :func:`default_n_scales`. ``J = 2`` is lowpass + wavelet only.
    n_angles_coarse : number of angles at the coarsest curvelet scale, a multiple of 4
        (default 16, CurveLab's); doubles every other scale towards the finest.

    ``forward(x)`` returns a list of ``J`` lists: ``[[lowpass]]`` (real), then for each
    curvelet scale the ``n_s / 2`` stored complex wedge arrays, then ``[finest]`` (real,
    ``H x W``). ``inverse`` takes the same structure.
    """

    def __init__(self, shape: tuple[int, int], n_scales: int | None = None, n_angles_coarse: int = 16):
        h, w = (int(v) for v in shape)
        if h < 8 or w < 8:
            raise ValueError(f"curvelet transform: image is {h}x{w}; need at least 8x8 pixels")
        n_scales = default_n_scales((h, w)) if n_scales is None else int(n_scales)
        if n_scales < 2:
            raise ValueError(f"curvelet transform: n_scales must be >= 2, got {n_scales}")
        if n_angles_coarse < 4 or n_angles_coarse % 4:
            raise ValueError(f"curvelet transform: n_angles_coarse must be a positive multiple of 4, got {n_angles_coarse}")
        # the coarsest lowpass must keep at least a couple of frequencies per axis
        if min(h, w) / (6 * 2 ** (n_scales - 2)) < 0.5:
            raise ValueError(f"curvelet transform: {n_scales} scales is too many for a {h}x{w} image")
        self.shape = (h, w)
        self.n_scales = n_scales
        self.n_angles = [1] + [n_angles_coarse * 2 ** math.ceil((s - 1) / 2) for s in range(1, n_scales - 1)] + [1]

        k1 = np.rint(np.fft.fftfreq(h) * h)
        k2 = np.rint(np.fft.fftfreq(w) * w)
        radius = [(h / (6 * 2 ** (n_scales - 2 - s)), w / (6 * 2 ** (n_scales - 2 - s))) for s in range(n_scales - 1)]
        # the separable lowpass windows, as their two 1-D factors
        lowpass = [(_lowpass_1d(k1 / r1), _lowpass_1d(k2 / r2)) for r1, r2 in radius]

        # coarsest: Phi_0 X cropped to an odd box around the origin (real coefficients)
        box = (2 * math.ceil(2 * radius[0][0]) + 1, 2 * math.ceil(2 * radius[0][1]) + 1)
        rows, cols = np.flatnonzero(lowpass[0][0] > 0), np.flatnonzero(lowpass[0][1] > 0)
        window = np.outer(lowpass[0][0][rows], lowpass[0][1][cols]).ravel()
        a, b = np.repeat(k1[rows], cols.size).astype(np.int64), np.tile(k2[cols], rows.size).astype(np.int64)
        points = (rows[:, np.newaxis] * w + cols[np.newaxis, :]).ravel()
        self._low = _Wedge(points, (a % box[0]) * box[1] + (b % box[1]), window, box)
        self._finest = np.sqrt(np.maximum(1.0 - np.outer(*lowpass[-1]) ** 2, 0.0))

        self._wedges: list[list[_Wedge]] = []
        for s in range(1, n_scales - 1):
            # the ring sqrt(Phi_s**2 - Phi_{s-1}**2) lives where Phi_s > 0
            rows, cols = np.flatnonzero(lowpass[s][0] > 0), np.flatnonzero(lowpass[s][1] > 0)
            outer = np.outer(lowpass[s][0][rows], lowpass[s][1][cols])
            inner = np.outer(lowpass[s - 1][0][rows], lowpass[s - 1][1][cols])
            ring = np.sqrt(np.maximum(outer**2 - inner**2, 0.0))
            r_idx, c_idx = np.nonzero(ring > 0)
            points = rows[r_idx] * w + cols[c_idx]
            a, b = k1[rows[r_idx]], k2[cols[c_idx]]
            r1, r2 = radius[s - 1]
            self._wedges.append(_angular_split(points, a, b, a / r1, b / r2, ring[r_idx, c_idx], self.n_angles[s]))

    def forward(self, image: np.ndarray) -> list[list[np.ndarray]]:
        """Curvelet coefficients of a real ``(H, W)`` image (see the class docstring)."""
        image = np.asarray(image, dtype=np.float64)
        if image.shape != self.shape:
            raise ValueError(f"curvelet transform: plan is for {self.shape}, image is {image.shape}")
        spectrum = fft.fft2(image, norm="ortho")
        flat = spectrum.ravel()
        coeffs = [[self._analyse(flat, self._low).real]]
        for scale in self._wedges:
            coeffs.append([self._analyse(flat, wedge) for wedge in scale])
        coeffs.append([fft.ifft2(spectrum * self._finest, norm="ortho").real])
        return coeffs

    def inverse(self, coeffs: list[list[np.ndarray]]) -> np.ndarray:
        """The real image whose transform is ``coeffs`` (exact inverse of :meth:`forward`)."""
        if len(coeffs) != self.n_scales or [len(c) for c in coeffs[1:-1]] != [len(s) for s in self._wedges]:
            raise ValueError("curvelet transform: coefficients do not match this plan's scales and angles")
        points, values = [], []
        low = self._synthesise(coeffs[0][0], self._low)
        points.append(self._low.points)
        values.append(low)
        for scale, arrays in zip(self._wedges, coeffs[1:-1]):
            for wedge, c in zip(scale, arrays):
                points.append(wedge.points)
                values.append(2.0 * self._synthesise(c, wedge))
        points = np.concatenate(points)
        values = np.concatenate(values)
        size = self.shape[0] * self.shape[1]
        spectrum = np.bincount(points, weights=values.real, minlength=size) + 1j * np.bincount(
            points, weights=values.imag, minlength=size
        )
        spectrum = spectrum.reshape(self.shape)
        spectrum += fft.fft2(np.asarray(coeffs[-1][0], dtype=np.float64), norm="ortho") * self._finest
        return fft.ifft2(spectrum, norm="ortho").real

    @staticmethod
    def _analyse(flat_spectrum: np.ndarray, wedge: _Wedge) -> np.ndarray:
        rect = np.zeros(wedge.shape[0] * wedge.shape[1], dtype=np.complex128)
        rect[wedge.wrapped] = flat_spectrum[wedge.points] * wedge.window
        return fft.ifft2(rect.reshape(wedge.shape), norm="ortho")

    @staticmethod
    def _synthesise(c: np.ndarray, wedge: _Wedge) -> np.ndarray:
        if c.shape != wedge.shape:
            raise ValueError(f"curvelet transform: coefficient array {c.shape} does not match wedge {wedge.shape}")
        return fft.fft2(c, norm="ortho").ravel()[wedge.wrapped] * wedge.window


def _wrap(k1: np.ndarray, k2: np.ndarray) -> tuple[tuple[int, int], np.ndarray]:
    """Smallest axis-aligned rectangle into which the support ``(k1, k2)`` wraps one-to-one,
    trying columns along either axis; returns its shape and the wrapped flat indices."""

    def spans(along: np.ndarray, across: np.ndarray) -> tuple[int, int]:
        offset = along - along.min()
        n = int(offset.max()) + 1
        lo = np.full(n, np.iinfo(np.int64).max)
        hi = np.full(n, np.iinfo(np.int64).min)
        np.minimum.at(lo, offset, across)
        np.maximum.at(hi, offset, across)
        return n, int((hi - lo).max()) + 1

    k1_extent, k2_span = spans(k1, k2)  # wrap k1 by its extent, k2 by its widest spread
    k2_extent, k1_span = spans(k2, k1)  # or the other way round
    rect = (k1_extent, k2_span) if k1_extent * k2_span <= k1_span * k2_extent else (k1_span, k2_extent)
    return rect, (k1 % rect[0]) * rect[1] + (k2 % rect[1])


def _angular_split(points, k1, k2, x, y, radial, n) -> list[_Wedge]:
    """Split the ring samples ``points`` (frequencies ``k1, k2``, normalised ``x, y``, radial
    window ``radial``) into the ``n / 2`` stored wedges of ``n`` angles."""
    scale = np.maximum(np.abs(x), np.abs(y))
    u, v = x / scale, y / scale
    # pseudo-angle on the square's boundary, counter-clockwise from the corner (1, -1)
    p = np.select([(u >= 1) & (v < 1), v >= 1, u <= -1], [1 + v, 3 - u, 5 - v], default=7 + u)
    t = p * (n / 8.0)
    main = np.floor(t).astype(np.int64)
    frac = t - main
    near_lower = frac < 0.5
    phase = np.where(near_lower, frac + 0.5, frac - 0.5)
    rise = np.sin(0.5 * np.pi * _smooth_step(phase))
    fall = np.cos(0.5 * np.pi * _smooth_step(phase))
    neighbour = np.where(near_lower, main - 1, main + 1) % n
    main %= n
    main_weight = np.where(near_lower, rise, fall)
    neighbour_weight = np.where(near_lower, fall, rise)

    wedge_of = np.concatenate([main, neighbour])
    weight = np.concatenate([main_weight, neighbour_weight]) * np.concatenate([radial, radial])
    where = np.concatenate([points, points])
    k1, k2 = (np.concatenate([k, k]).astype(np.int64) for k in (k1, k2))
    keep = (weight > 0) & (wedge_of < n // 2)  # the other half plane is the mirror image
    order = np.flatnonzero(keep)[np.argsort(wedge_of[keep], kind="stable")]
    wedge_of, weight, where, k1, k2 = wedge_of[order], weight[order], where[order], k1[order], k2[order]
    bounds = np.searchsorted(wedge_of, np.arange(n // 2 + 1))

    wedges = []
    for l in range(n // 2):
        sel = slice(bounds[l], bounds[l + 1])
        rect, wrapped = _wrap(k1[sel], k2[sel])
        wedges.append(_Wedge(where[sel], wrapped, weight[sel], rect))
    return wedges
