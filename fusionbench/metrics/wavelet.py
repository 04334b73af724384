"""Qm: multiscale (wavelet) edge-preservation metric of Wang & Liu (2008).

P.-W. Wang, B. Liu, "A novel image fusion metric based on multi-scale analysis", Proc. 9th
International Conference on Signal Processing (ICSP 2008), pp. 965-968. Reference code:
``metricPWW.m`` of Z. Liu's imageFusionMetrics with Simoncelli's matlabPyrTools
(``buildWpyr(I, 2, 'haar')``), the source of the golden values.
"""

from __future__ import annotations

import numpy as np

from ._shared import map_row_blocks
from .inputs import MetricInputs
from .registry import register_metric

__all__ = ["qm", "haar_pyramid"]

_LEVELS = 2
_LEVEL_EXPONENTS = (2.0 / 3.0, 1.0 / 3.0)
_HAAR = 1.0 / np.sqrt(2.0)  # namedFilter('haar') = [1 1]' / sqrt(2)


def _haar_rows(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``corrDn(I, f, 'reflect1', [2 1], [2 1])`` for the Haar low-pass f = [1 1]/sqrt(2)
    and its ``modulateFlip`` high-pass [-1 1]/sqrt(2): sums and differences of row pairs
    (1,2), (3,4), ...; an odd last row is dropped (the sampling starts at row 2, so the
    'reflect1' border row is never used)."""
    first = image[..., 0 : 2 * (image.shape[-2] // 2) : 2, :] * _HAAR
    second = image[..., 1 : 2 * (image.shape[-2] // 2) : 2, :] * _HAAR
    return first + second, second - first


def _haar_columns(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`_haar_rows`, along columns."""
    first = image[..., 0 : 2 * (image.shape[-1] // 2) : 2] * _HAAR
    second = image[..., 1 : 2 * (image.shape[-1] // 2) : 2] * _HAAR
    return first + second, second - first


def haar_pyramid(image: np.ndarray, levels: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The detail bands of matlabPyrTools ``buildWpyr(image, levels, 'haar')`` (default
    'reflect1' edges), finest level first, each as ``(band 1, band 2, band 3)``: band 1
    (``lohi``) is low-pass along columns of the row high-pass, band 2 (``hilo``) the
    column high-pass of the row low-pass, band 3 (``hihi``) high-pass in both.

    Works on stacks ``(..., H, W)``. Each level needs at least 2 rows and columns and leaves
    a low-pass image of ``floor(H/2) x floor(W/2)``; like ``buildWpyr`` (whose bands turn
    1-D on a one-row low-pass) it needs ``H, W >= 2^levels`` (checked by the caller).
    """
    bands = []
    low = np.asarray(image, dtype=np.float64)
    for _ in range(levels):
        row_low, row_high = _haar_rows(low)
        low, band2 = _haar_columns(row_low)
        band1, band3 = _haar_columns(row_high)
        bands.append((band1, band2, band3))
    return bands


def _edge_preservation(source: np.ndarray, fused: np.ndarray) -> np.ndarray:
    """exp(-|source - fused|) (a new array)."""
    out = source - fused
    np.abs(out, out=out)
    np.negative(out, out=out)
    return np.exp(out, out=out)


def _level_sums(*bands: np.ndarray) -> tuple[np.float64, np.float64]:
    """sum(EP_A W_A + EP_B W_B) and sum(W_A + W_B) over a block of one level's bands, given
    as H, V, D of A, then of B, then of F."""
    h_f, v_f, d_f = bands[6:9]
    sums = []
    for h, v, d in (bands[0:3], bands[3:6]):
        weight = h * h
        weight += v * v
        weight += d * d
        edge = _edge_preservation(h, h_f)
        edge += _edge_preservation(v, v_f)
        edge += _edge_preservation(d, d_f)
        edge *= weight
        sums.append((edge, weight))
    (ep_a, w_a), (ep_b, w_b) = sums
    ep_a += ep_b
    w_a += w_b
    return np.sum(ep_a), np.sum(w_a)


def qm_value(a: np.ndarray, b: np.ndarray, fused: np.ndarray) -> float:
    """Qm of gray float64 images (see :func:`qm`)."""
    if min(fused.shape) < 2**_LEVELS:
        return float("nan")
    pyramids = [haar_pyramid(image, _LEVELS) for image in (a, b, fused)]
    result = 1.0
    for level, exponent in enumerate(_LEVEL_EXPONENTS):
        parts = map_row_blocks(_level_sums, *(band for pyramid in pyramids for band in pyramid[level]))
        # numpy division: sources without detail give 0 / 0 = NaN, as in the reference.
        level_q = sum(p[0] for p in parts) / sum(p[1] for p in parts)
        result *= level_q**exponent
    return float(result)


@register_metric(
    "Qm",
    needs=("a", "b", "fused"),
    higher_is_better=True,
    range=(0, 3),
    reference="Wang & Liu 2008, ICSP 2008 pp. 965-968; imageFusionMetrics metricPWW.m",
)
def qm(x: MetricInputs) -> float:
    """Multiscale edge preservation Q_M (Wang & Liu 2008), ``metricPWW(A, B, F)``.

    Two-level Haar wavelet decomposition (matlabPyrTools ``buildWpyr(I, 2, 'haar')``: row
    pairs then column pairs, odd last rows/columns dropped). At level s, with detail bands
    H, V, D, the edge preservation of source S is EP_S = exp(-|H_S - H_F|) +
    exp(-|V_S - V_F|) + exp(-|D_S - D_F|) and its weight W_S = H_S^2 + V_S^2 + D_S^2;
    Q_s = sum(EP_A W_A + EP_B W_B) / sum(W_A + W_B) over the band's pixels, and
    Q_M = Q_1^(2/3) Q_2^(1/3). Range [0, 3]: 3 when the fused image equals both sources
    (the original paper normalises EP to [0, 1]; the reference code, and so this metric, does
    not). NaN when both sources have no detail at a level (0 / 0, e.g. constant sources) or
    when an image has fewer than 4 rows or columns (``buildWpyr`` fails there).
    """
    return qm_value(x.a, x.b, x.fused)
