"""Qabf: gradient-based edge preservation (Xydeas & Petrovic 2000).

C. S. Xydeas, V. Petrovic, "Objective image fusion performance measure", Electronics Letters
36(4):308-309, 2000. Reference code: ``metricXydeas.m`` of MFIF-Metrics (Z. Liu 2003, revised
by Y. Liu 2019 to follow the paper's Eq. 4, Fig. 1 and Eq. 8), the source of the golden values.
"""

from __future__ import annotations

import numpy as np

from ._shared import map_row_blocks, sobel_filter2
from .inputs import MetricInputs
from .registry import register_metric

__all__ = ["qabf"]

_ZERO_GUARD = 0.00001  # what the reference adds to exact zeros before dividing
# Sigmoid parameters of the reference (from the paper's Fig. 1).
_GAMMA_G, _K_G, _DELTA_G = 0.9994, -15.0, 0.5
_GAMMA_A, _K_A, _DELTA_A = 0.9879, -22.0, 0.8
_TWO_OVER_PI = 2.0 / np.pi


def _guard_zeros(values: np.ndarray) -> np.ndarray:
    """``v + (v == 0) * 0.00001``: exact zeros become 1e-5, everything else is unchanged."""
    return np.where(values == 0, _ZERO_GUARD, values)


def _magnitude(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """sqrt(gx^2 + gy^2), rounded as the reference computes it."""
    out = gx * gx
    out += gy * gy
    return np.sqrt(out, out=out)


def _preservation(
    strength: np.ndarray,
    source_x: np.ndarray,
    source_y: np.ndarray,
    fused_x: np.ndarray,
    fused_y: np.ndarray,
) -> np.ndarray:
    """Edge preservation Q^{SF} = Q_g(G) Q_alpha(A) of one source S in the fused image F, from
    the strength ratio G (overwritten) and the zero-guarded Sobel responses.

    Orientation A = 1 - |atan(y_S / x_S) - atan(y_F / x_F)| * 2 / pi, the angle difference
    taken from the cross and dot products (the same angle, rounded differently by ~1e-16;
    one arctan2 instead of two arctan per source): with m = x_S x_F,
    atan(a) - atan(b) = atan2(a - b, 1 + a b) = atan2(sign(m) cross, sign(m) dot), and
    negating both arguments of atan2 turns |angle| t into pi - t, so
    A = sign(m) (1 - 2 t / pi) with t = |atan2(cross, dot)|.
    """
    m = source_x * fused_x
    dot = source_y * fused_y
    dot += m
    cross = source_y * fused_x
    cross -= fused_y * source_x
    # Orientation sigmoid argument k_A (A - delta_A), A = sign(m) (1 - 2 t / pi).
    z = np.arctan2(cross, dot, out=cross)
    np.abs(z, out=z)
    z *= -_TWO_OVER_PI * _K_A
    z += _K_A
    z *= np.sign(m, out=m)
    z -= _K_A * _DELTA_A
    np.exp(z, out=z)
    z += 1.0
    # Strength sigmoid denominator 1 + exp(k_G (G - delta_G)).
    strength -= _DELTA_G
    strength *= _K_G
    np.exp(strength, out=strength)
    strength += 1.0
    strength *= z
    # Q_g Q_alpha = gamma_G gamma_A / ((1 + e_G)(1 + e_A)).
    return np.divide(_GAMMA_G * _GAMMA_A, strength, out=strength)


def _block_sums(
    x_a: np.ndarray, y_a: np.ndarray, x_b: np.ndarray, y_b: np.ndarray, x_f: np.ndarray, y_f: np.ndarray
) -> tuple[float, float]:
    """sum(Q^{AF} g_A + Q^{BF} g_B) and sum(g_A + g_B) over a block of pixels, from the raw
    Sobel responses."""
    g_a, g_b, g_f = _magnitude(x_a, y_a), _magnitude(x_b, y_b), _magnitude(x_f, y_f)
    guarded_a = _guard_zeros(g_a)
    guarded_b = _guard_zeros(g_b)
    guarded_f = _guard_zeros(g_f)
    # The reference compares g_A with the raw g_F, but g_B with the already guarded g_F.
    strength_a = np.where(g_a > g_f, g_f / guarded_a, guarded_a / guarded_f)
    strength_b = np.where(g_b > guarded_f, guarded_f / guarded_b, guarded_b / guarded_f)
    gx_a, gx_b, gx_f = _guard_zeros(x_a), _guard_zeros(x_b), _guard_zeros(x_f)
    q_af = _preservation(strength_a, gx_a, y_a, gx_f, y_f)
    q_bf = _preservation(strength_b, gx_b, y_b, gx_f, y_f)
    q_af *= guarded_a
    q_bf *= guarded_b
    q_af += q_bf
    guarded_a += guarded_b
    return float(np.sum(q_af)), float(np.sum(guarded_a))


@register_metric(
    "Qabf",
    aliases=["QG", "QAB/F"],
    needs=("a", "b", "fused"),
    higher_is_better=True,
    range=(0, 1),
    reference="Xydeas & Petrović 2000, Electronics Letters 36(4); MFIF-Metrics metricXydeas.m",
)
def qabf(x: MetricInputs) -> float:
    """Gradient-based fusion performance Q^{AB/F} (Xydeas & Petrovic 2000), ``metricXydeas(A, B, F)``.

    Sobel responses by ``filter2`` with zero padding ('same'); magnitude g = sqrt(x^2 + y^2),
    angle atan(y / x) with x = 0 replaced by 1e-5. For each source S, strength preservation
    G = min(g_S, g_F) / max(g_S, g_F) and orientation preservation A = 1 - |angle_S - angle_F|
    * 2 / pi go through the sigmoids Q_g = 0.9994 / (1 + exp(-15 (G - 0.5))) and
    Q_a = 0.9879 / (1 + exp(-22 (A - 0.8))); Q^{SF} = Q_g Q_a. The result is
    sum(Q^{AF} g_A + Q^{BF} g_B) / sum(g_A + g_B) over all pixels.

    Reference conventions kept: magnitudes equal to 0 are replaced by 1e-5 before the
    divisions and in the weights, and the fused magnitude is compared with source B only
    after that replacement (where g_F = 0 < g_B, G^{BF} = 1e-5 / g_B, whereas G^{AF} = 0
    where g_F = 0 < g_A). Range [0, 1) (the sigmoids peak at 0.9994 * 0.9879); a fused
    image equal to both sources scores 0.9994 * 0.9879 / (1 + exp(-7.5)) / (1 + exp(-4.4))
    ~ 0.9749, whatever the image (also a constant one: zero padding gives border gradients,
    and where all are 0 the guards make G = A = 1).

    Exactness: on integer-valued images (8-bit data) every Sobel sum is exact and the value
    equals the reference's to ~1e-15. On non-integer images with exactly flat 3 x 3 areas the
    reference's x == 0 test sees the rounding residue of its 2-D Sobel sum there (e.g. 1e-14
    instead of 0, turning atan(y / x) from 0 into +-pi/2), while the separable sums here give
    exact zeros; such inputs can differ from the reference by ~1e-2.
    """
    sums = map_row_blocks(_block_sums, *sobel_filter2(x, "a"), *sobel_filter2(x, "b"), *sobel_filter2(x, "fused"))
    numerator = sum(part[0] for part in sums)
    denominator = sum(part[1] for part in sums)
    return float(numerator / denominator)
