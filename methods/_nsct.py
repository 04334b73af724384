"""Nonsubsampled contourlet transform (NSCT), filter banks applied in the frequency domain.

Cunha, Zhou & Do, "The nonsubsampled contourlet transform: theory, design, and applications",
IEEE Trans. Image Process. 15(10), 2006. The structure and the filters are those of the
authors' NSCT toolbox (``nsctdec``/``nsctrec``); the filtering is done by FFT on a
symmetrically extended canvas instead of by convolution, which makes it fast and exact.

* Nonsubsampled pyramid (NSP), the toolbox's ``'pyrexc'`` filters (``atrousfilters``): 2-D
  lowpass/highpass analysis ``h0, h1`` (5x5, 7x7) and synthesis ``g0, g1`` with
  ``H0 G0 + H1 G1 = 1``; level ``j`` (0 = finest) uses them upsampled by ``2**j`` (à trous).
* Nonsubsampled directional filter bank (NSDFB), the toolbox's ``'dmaxflat7'`` filters
  (``dfilters``): diamond filters from the McClellan transform of a 1-D ladder pair (``h``
  of length 5, ``g`` of length 7, with ``k1 = k3 = 1 - sqrt(2)``, ``k2 = 1/sqrt(2)``) by the
  order-7 diamond maxflat filter ``B`` (``dmaxflat(7, 0)``). So every filter of the tree is
  a polynomial in ``beta = B(T^t w + pi c)``, where ``T`` maps the filter's taps
  (quincunx upsampling at level 2, the ``parafilters`` shears and transposes and the
  sampling matrices ``M_{k,l}`` of ``nsdfbdec`` at levels >= 3) and ``c`` is its
  modulation: analysis ``(H(beta), G(-beta))``, synthesis ``(G(beta), H(-beta))`` with
  ``H(beta) G(beta) + H(-beta) G(-beta) = 1``. Filters are applied zero-phase (taps centred
  on the origin); the toolbox's convolution and ``resampz`` trimming conventions can place
  some subbands a few pixels differently, so coefficients are not numerically the toolbox's.

Each directional subband of pyramid level ``j`` is the image filtered by the product of its
pyramid and directional analysis responses; reconstruction sums the subbands filtered by the
synthesis responses. Because every two-channel node is perfect-reconstruction, the sum of
analysis x synthesis over all subbands is 1 at every frequency, and ``inverse(forward(x))``
equals ``x`` up to rounding (about 1e-15 relative).

Boundaries: the image is extended symmetrically by ``pad`` pixels (then up to an FFT-friendly
size) and filtered periodically on that canvas; the toolbox extends symmetrically for the
pyramid and periodically for the directional filters. Coefficients live on the canvas
(``transform.canvas_shape``); :meth:`NSCTransform.inverse` crops back to the image.
"""

from __future__ import annotations

import numpy as np
from scipy import fft

__all__ = ["NSCTransform"]


def _symmetric_from_quarter(quarter: list[list[float]]) -> np.ndarray:
    """Full filter from its top-left quarter (centre at the bottom-right), mirrored both ways."""
    q = np.asarray(quarter, dtype=np.float64)
    half = np.concatenate([q, q[:, -2::-1]], axis=1)
    return np.concatenate([half, half[-2::-1]], axis=0)


# NSCT toolbox atrousfilters('pyrexc'): analysis lowpass/highpass, synthesis lowpass/highpass
_PYR_H0 = _symmetric_from_quarter([
    [-0.003236043456039806, -0.012944173824159223, -0.019416260736238835],
    [-0.012944173824159223, 0.0625, 0.15088834764831843],
    [-0.019416260736238835, 0.15088834764831843, 0.3406092167691145],
])
_PYR_H1 = _symmetric_from_quarter([
    [-0.003236043456039806, -0.012944173824159223, -0.019416260736238835],
    [-0.012944173824159223, -0.0625, -0.09911165235168155],
    [-0.019416260736238835, -0.09911165235168155, 0.8406092167691145],
])
_PYR_G0 = _symmetric_from_quarter([
    [-0.00016755163599004882, -0.001005309815940293, -0.002513274539850732, -0.003351032719800976],
    [-0.001005309815940293, -0.005246663087920392, -0.01193886400821893, -0.015395021472477663],
    [-0.002513274539850732, -0.01193886400821893, 0.06769410071569153, 0.15423938036811946],
    [-0.003351032719800976, -0.015395021472477663, 0.15423938036811946, 0.3325667382415921],
])
_PYR_G1 = _symmetric_from_quarter([
    [0.00016755163599004882, 0.001005309815940293, 0.002513274539850732, 0.003351032719800976],
    [0.001005309815940293, -0.0012254238241592198, -0.013949483640099517, -0.023437500000000007],
    [0.002513274539850732, -0.013949483640099517, -0.06769410071569153, -0.10246268507148255],
    [0.003351032719800976, -0.023437500000000007, -0.10246268507148255, 0.8486516952966369],
])

# NSCT toolbox dmaxflat(7, 0): diamond maxflat filter of order 7 (top-left quarter, / 2**24)
_DMAXFLAT7 = _symmetric_from_quarter(
    np.array([
        [0, 231, 0, 126, 0, 105, 0, 100],
        [231, 0, -3675, 0, -2009, 0, -1715, 0],
        [0, -3675, 0, 27930, 0, 15435, 0, 13804],
        [126, 0, 27930, 0, -136514, 0, -77910, 0],
        [0, -2009, 0, -136514, 0, 495145, 0, 311780],
        [105, 0, 15435, 0, 495145, 0, -1535709, 0],
        [0, -1715, 0, -77910, 0, -1535709, 0, 6305740],
        [100, 0, 13804, 0, 311780, 0, 6305740, 0],
    ], dtype=np.float64)
    / 2**24
)


def _ladder_prototypes() -> tuple[np.ndarray, np.ndarray]:
    """The 1-D ladder pair of ``dfilters('dmaxflat*')`` as Chebyshev coefficients
    ``[c0, c1, ...]`` of ``c0 + 2 sum_n c_n cos(n theta)``, normalised to 1 at theta = 0."""
    m1 = 1 / np.sqrt(2)
    k1 = k3 = 1 - np.sqrt(2)
    k2 = m1
    h = np.array([1 + 0.5 * k2 * k3, 0.5 * k2, 0.25 * k2 * k3]) * m1  # centre first
    g = np.array([1 + 0.5 * k1 * k2, -0.5 * k1 - 0.5 * k3 - 0.375 * k1 * k2 * k3, 0.25 * k1 * k2, -0.125 * k1 * k2 * k3]) * m1
    return h / (h[0] + 2 * h[1:].sum()), g / (g[0] + 2 * g[1:].sum())


_LADDER_H, _LADDER_G = _ladder_prototypes()


def _power_series(chebyshev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Even and odd parts of ``c0 + 2 sum_n c_n T_n(beta)`` (the McClellan transform of a
    zero-phase 1-D filter) as power series in ``beta**2``: ``E(beta**2) + beta O(beta**2)``."""
    series = np.polynomial.chebyshev.cheb2poly(np.concatenate([chebyshev[:1], 2 * chebyshev[1:]]))
    return series[0::2], series[1::2]


_LADDER_H_PARTS, _LADDER_G_PARTS = _power_series(_LADDER_H), _power_series(_LADDER_G)


# tap maps of nsdfbdec: modulation vector (before the map) and integer matrix per filter type
_SWAP = np.array([[0, 1], [1, 0]])
# (the shears are written as maps of tap positions; their signs were checked by plotting the
# subband responses, which must be pairs of opposite wedges through the origin)
_PARAFILTERS = [  # parafilters(): modulate, transpose, resampz(type i + 1)
    ((1, 0), np.array([[1, 1], [0, 1]])),
    ((0, 1), np.array([[1, -1], [0, 1]])),
    ((1, 0), np.array([[1, 0], [1, 1]]) @ _SWAP),
    ((0, 1), np.array([[1, 0], [-1, 1]]) @ _SWAP),
]
_QUINCUNX = np.array([[1, -1], [1, 1]])


class NSCTransform:
    """NSCT plan for real images of one shape.

    Parameters
    ----------
    shape : (H, W).
    levels : directional decomposition levels per pyramid level, coarsest first, as the
        toolbox's ``nlevs`` (default ``(2, 3, 3, 4)``: 4, 8, 8 and 16 directions, 16 at the
        finest scale). 0 keeps a pyramid level undivided.
    pad : pixels of symmetric extension on each side before periodic filtering.

    ``forward(x)`` returns ``[lowpass, [subbands of the coarsest level], ..., [finest]]``,
    each subband a float64 array of ``canvas_shape``; ``inverse`` takes the same structure.
    """

    def __init__(self, shape: tuple[int, int], levels: tuple[int, ...] = (2, 3, 3, 4), pad: int = 32):
        h, w = (int(v) for v in shape)
        levels = tuple(int(v) for v in levels)
        if not levels or min(levels) < 0 or max(levels) > 6:
            raise ValueError(f"NSCT: levels must be 1 or more directional levels in 0..6 per pyramid level, got {levels}")
        if h < 2 or w < 2 or pad < 0:
            raise ValueError(f"NSCT: need an image of at least 2x2 and pad >= 0, got {h}x{w}, pad={pad}")
        self.shape = (h, w)
        self.levels = levels
        self.pad = (min(pad, h - 1), min(pad, w - 1))  # one symmetric reflection at most
        self.canvas_shape = tuple(fft.next_fast_len(n + 2 * p, real=True) for n, p in zip(self.shape, self.pad))

        p1, p2 = self.canvas_shape
        w1 = 2 * np.pi * np.fft.fftfreq(p1)
        w2 = 2 * np.pi * np.fft.rfftfreq(p2)
        n_pyramid = len(levels)
        h0, h1, g0, g1 = ([_separable_response(f, w1 * 2**j, w2 * 2**j) for j in range(n_pyramid)] for f in (_PYR_H0, _PYR_H1, _PYR_G0, _PYR_G1))
        # pyramid level j (0 = finest): highpass after j lowpasses
        self._pyramid_analysis, self._pyramid_synthesis = [], []
        low_a, low_s = np.ones_like(h0[0]), np.ones_like(g0[0])
        for j in range(n_pyramid):
            self._pyramid_analysis.append(low_a * h1[j])
            self._pyramid_synthesis.append(low_s * g1[j])
            low_a, low_s = low_a * h0[j], low_s * g0[j]
        self._low_analysis, self._low_synthesis = low_a, low_s
        self._directional = _directional_responses(max(levels), self.canvas_shape)

    def _directions(self, j: int) -> list[tuple[np.ndarray, np.ndarray]]:
        return self._directional[self.levels[len(self.levels) - 1 - j]]

    def forward(self, image: np.ndarray) -> list:
        """NSCT coefficients of a real ``(H, W)`` image (see the class docstring)."""
        image = np.asarray(image, dtype=np.float64)
        if image.shape != self.shape:
            raise ValueError(f"NSCT: plan is for {self.shape}, image is {image.shape}")
        (t, l), (c1, c2) = self.pad, self.canvas_shape
        canvas = np.pad(image, ((t, c1 - self.shape[0] - t), (l, c2 - self.shape[1] - l)), mode="symmetric")
        spectrum = fft.rfft2(canvas)
        coeffs: list = [fft.irfft2(spectrum * self._low_analysis, s=self.canvas_shape)]
        for j in reversed(range(len(self.levels))):
            band = spectrum * self._pyramid_analysis[j]
            coeffs.append([fft.irfft2(band * analysis, s=self.canvas_shape) for analysis, _ in self._directions(j)])
        return coeffs

    def inverse(self, coeffs: list) -> np.ndarray:
        """The ``(H, W)`` image whose coefficients are ``coeffs`` (exact inverse of :meth:`forward`)."""
        n_pyramid = len(self.levels)
        if len(coeffs) != n_pyramid + 1 or any(len(coeffs[1 + i]) != 2 ** self.levels[i] for i in range(n_pyramid)):
            raise ValueError(f"NSCT: coefficients do not match levels {self.levels}")
        spectrum = fft.rfft2(coeffs[0]) * self._low_synthesis
        for i, bands in enumerate(coeffs[1:]):
            j = n_pyramid - 1 - i
            level = np.zeros_like(spectrum)
            for band, (_, synthesis) in zip(bands, self._directions(j)):
                level += fft.rfft2(band) * synthesis
            spectrum += level * self._pyramid_synthesis[j]
        canvas = fft.irfft2(spectrum, s=self.canvas_shape)
        (t, l), (h, w) = self.pad, self.shape
        return canvas[t : t + h, l : l + w]


def _separable_response(kernel: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    """Frequency response of a centred filter symmetric in both axes, on ``w1 x w2``."""
    m1, m2 = kernel.shape[0] // 2, kernel.shape[1] // 2
    c1 = np.cos(np.outer(w1, np.arange(-m1, m1 + 1)))
    c2 = np.cos(np.outer(w2, np.arange(-m2, m2 + 1)))
    return c1 @ kernel @ c2.T


def _diamond_response(tap_map: np.ndarray, modulation: tuple[int, int], canvas: tuple[int, int]) -> np.ndarray:
    """``B(T^t w + pi c)`` on the rfft grid of ``canvas``: the dmaxflat7 taps moved to
    ``T m`` with sign ``(-1)^(c . m)``, periodised on the canvas."""
    m = np.argwhere(_DMAXFLAT7 != 0) - _DMAXFLAT7.shape[0] // 2
    values = _DMAXFLAT7[_DMAXFLAT7 != 0] * (-1.0) ** (m @ np.asarray(modulation))
    moved = m @ tap_map.T
    kernel = np.zeros(canvas)
    np.add.at(kernel, (moved[:, 0] % canvas[0], moved[:, 1] % canvas[1]), values)
    return fft.rfft2(kernel).real  # taps symmetric about the origin: a real response


def _node(tap_map: np.ndarray, modulation: tuple[int, int], canvas) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Analysis ``(H(beta), G(-beta))`` and synthesis ``(G(beta), H(-beta))`` responses of one
    two-channel NSDFB node."""
    beta = _diamond_response(tap_map, modulation, canvas)
    beta2 = beta * beta
    (h_even, h_odd), (g_even, g_odd) = (
        (np.polynomial.polynomial.polyval(beta2, even), beta * np.polynomial.polynomial.polyval(beta2, odd))
        for even, odd in (_LADDER_H_PARTS, _LADDER_G_PARTS)
    )
    return (h_even + h_odd, g_even - g_odd), (g_even + g_odd, h_even - h_odd)


def _directional_responses(max_levels: int, canvas) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """(analysis, synthesis) responses of the NSDFB subbands for 0 .. ``max_levels`` levels:
    entry ``n`` lists the ``2**n`` subbands in the toolbox's ``nsdfbdec`` order."""
    ones = np.ones((canvas[0], canvas[1] // 2 + 1))
    depths = [[(ones, ones)]]

    def split(bands, nodes):
        out = []
        for (a, s), ((a0, a1), (s0, s1)) in zip(bands, nodes):
            out += [(a * a0, s * s0), (a * a1, s * s1)]
        return out

    for level in range(1, max_levels + 1):
        if level == 1:
            nodes = [_node(np.eye(2, dtype=int), (0, 1), canvas)]  # fan filters: modulate2(., 'c')
        elif level == 2:
            nodes = [_node(_QUINCUNX, (0, 1), canvas)] * 2
        else:
            nodes = []
            half = 2 ** (level - 2)
            for k in range(1, 2 ** (level - 1) + 1):
                if k <= half:
                    slope = 2 * ((k - 1) // 2) - 2 ** (level - 3) + 1
                    sampling = 2 * np.array([[2 ** (level - 3), 0], [0, 1]]) @ np.array([[1, 0], [-slope, 1]])
                    modulation, shear = _PARAFILTERS[(k - 1) % 2]
                else:
                    slope = 2 * ((k - half - 1) // 2) - 2 ** (level - 3) + 1
                    sampling = 2 * np.array([[1, 0], [0, 2 ** (level - 3)]]) @ np.array([[1, -slope], [0, 1]])
                    modulation, shear = _PARAFILTERS[(k - 1) % 2 + 2]
                nodes.append(_node(sampling @ shear, modulation, canvas))
        depths.append(split(depths[-1], nodes))
    return depths
