"""Nabf: fusion artifacts, the noise/artifact part of Petrovic's gradient-based fusion
performance characterisation (lower is better).

V. Petrovic, C. Xydeas, "Objective image fusion performance characterisation", Proc. ICCV
2005, pp. 1866-1871 (total information transfer Q^AB/F, loss L^AB/F and artifacts N^AB/F);
B. K. Shreyamsha Kumar, "Multifocus and multispectral image fusion based on pixel
significance using discrete cosine harmonic wavelet transform", Signal, Image and Video
Processing 7(6):1125-1143, 2013 (the modified N^AB/F that makes Q + L + N = 1). Reference
code: Kumar's ``objective_fusion_perform_fn.m`` (distributed with his CBF fusion code, e.g.
VIFB ``methods/CBF``), output ``NABF`` - the value fusion papers report as "Nabf".
"""

from __future__ import annotations

import numpy as np

from ._shared import map_row_blocks, sobel_filter2
from .inputs import MetricInputs
from .registry import register_metric

__all__ = ["nabf", "sobel_mirror"]

# Parameters of objective_fusion_perform_fn.m (Petrovic & Xydeas 2005).
_T_D = 2.0  # edge strengths below this get the minimum weight
_W_MIN = 0.001
_L_G = 1.5  # weight = g^1.5
_GAMMA_G, _K_G, _SIGMA_G = 0.9999, 19.0, 0.5
_GAMMA_A, _K_A, _SIGMA_A = 0.9995, 22.0, 0.5


def _sobel_lines(padded: np.ndarray, rows: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Sobel responses (horizontal change, vertical change) of the given rows of the image
    inside ``padded`` (the image with a one-pixel border on every side)."""
    horizontal, vertical = [], []
    for r in rows:
        block = padded[r : r + 3]
        column_smooth = block[0] + 2.0 * block[1] + block[2]
        horizontal.append(column_smooth[2:] - column_smooth[:-2])
        row_smooth = block[:, :-2] + 2.0 * block[:, 1:-1] + block[:, 2:]
        vertical.append(row_smooth[2] - row_smooth[0])
    return np.array(horizontal), np.array(vertical)


def sobel_mirror(x: MetricInputs, role: str) -> tuple[np.ndarray, np.ndarray]:
    """``sobel_fn`` of Kumar's code for image ``role``: correlation with
    ``[-1 0 1; -2 0 2; -1 0 1] / 8`` (``gv``, horizontal change) and its transpose (``gh``),
    the image extended by mirroring about its border pixels (``per_extn_im_fn``: row -1 is
    row 1). Inside the image these are the zero-padded responses of
    :func:`~fusionbench.metrics._shared.sobel_filter2` (shared with Qabf) divided by 8; only
    the border lines are recomputed."""

    def compute() -> tuple[np.ndarray, np.ndarray]:
        horizontal, vertical = sobel_filter2(x, role)
        gv, gh = horizontal / 8.0, vertical / 8.0
        padded = np.pad(x.image(role), 1, mode="reflect")
        last_row, last_col = gv.shape[0] - 1, gv.shape[1] - 1
        rows_h, rows_v = _sobel_lines(padded, (0, last_row))
        gv[[0, last_row]], gh[[0, last_row]] = rows_h / 8.0, rows_v / 8.0
        # On the transposed image the first response is the change along the columns (gh).
        cols_gh, cols_gv = _sobel_lines(padded.T, (0, last_col))
        gv[:, [0, last_col]], gh[:, [0, last_col]] = cols_gv.T / 8.0, cols_gh.T / 8.0
        return gv, gh

    return x.cached(("sobel_mirror", role), compute)


def _strength_and_angle(gv: np.ndarray, gh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edge strength sqrt(gh^2 + gv^2) and angle atan(gv / gh) (0 where both are 0)."""
    strength = np.sqrt(gh * gh + gv * gv)
    angle = np.arctan(gv / gh)
    angle[strength == 0] = 0.0
    return strength, angle


def _preservation(g_s: np.ndarray, a_s: np.ndarray, g_f: np.ndarray, a_f: np.ndarray) -> np.ndarray:
    """Q^SF = sqrt(Q_g Q_a) of Petrovic & Xydeas 2005 for one source S."""
    # G = min / max of the strengths (g_F / g_S where g_S > g_F, else g_S / g_F), 0 where either is 0.
    larger = np.maximum(g_s, g_f)
    relative = np.divide(np.minimum(g_s, g_f), larger, out=np.zeros_like(larger), where=larger > 0)
    orientation = np.abs(np.abs(a_s - a_f) - np.pi / 2) * (2.0 / np.pi)
    q_g = _GAMMA_G / (1.0 + np.exp(-_K_G * (relative - _SIGMA_G)))
    q_a = _GAMMA_A / (1.0 + np.exp(-_K_A * (orientation - _SIGMA_A)))
    return np.sqrt(q_g * q_a)


def _weight(g: np.ndarray) -> np.ndarray:
    """g^1.5 where g >= 2, else 0.001."""
    return np.where(g >= _T_D, g * np.sqrt(g), _W_MIN)


def _block_sums(
    gv_a: np.ndarray, gh_a: np.ndarray, gv_b: np.ndarray, gh_b: np.ndarray, gv_f: np.ndarray, gh_f: np.ndarray
) -> tuple[float, float]:
    """sum over artifact pixels of (1 - Q^AF) w_A + (1 - Q^BF) w_B, and sum(w_A + w_B), over
    a block of pixels."""
    (g_a, a_a), (g_b, a_b), (g_f, a_f) = (_strength_and_angle(v, h) for v, h in ((gv_a, gh_a), (gv_b, gh_b), (gv_f, gh_f)))
    w_a, w_b = _weight(g_a), _weight(g_b)
    loss = (1.0 - _preservation(g_a, a_a, g_f, a_f)) * w_a
    loss += (1.0 - _preservation(g_b, a_b, g_f, a_f)) * w_b
    artifacts = (g_f > g_a) & (g_f > g_b)
    return float(np.sum(loss[artifacts])), float(np.sum(w_a + w_b))


@register_metric(
    "Nabf",
    aliases=["NAB/F"],
    needs=("a", "b", "fused"),
    higher_is_better=False,
    range=(0, 1),
    reference="Petrovic & Xydeas 2005 (ICCV), modified by Kumar 2013 (SIViP 7(6)); "
    "objective_fusion_perform_fn.m NABF",
)
def nabf(x: MetricInputs) -> float:
    """Fusion artifacts N^AB/F (Petrovic & Xydeas 2005, as modified by Kumar 2013): the
    weighted share of edge information that the fused image *adds*,
    ``NABF`` of ``objective_fusion_perform_fn(F, {A, B})``.

    Edge strength g and orientation alpha = atan(gv / gh) from Sobel / 8 with mirrored
    borders (:func:`sobel_mirror`; alpha = 0 where both responses are 0). For each source S:
    G = min(g_S, g_F) / max(g_S, g_F) (0 where either is 0), A = |(|alpha_S - alpha_F| -
    pi/2)| 2/pi, Q^SF = sqrt(Q_g Q_a) with Q_g = 0.9999 / (1 + exp(-19 (G - 0.5))) and
    Q_a = 0.9995 / (1 + exp(-22 (A - 0.5))); weights w_S = g_S^1.5 where g_S >= 2, else
    0.001. At pixels where the fused edge is stronger than both sources' (g_F > g_A and
    g_F > g_B), N = sum((1 - Q^AF) w_A + (1 - Q^BF) w_B) / sum(w_A + w_B) (sums over all
    pixels in the denominator). Range [0, 1], lower is better; 0 when the fused image adds
    no stronger edge anywhere (e.g. F = A = B). Petrovic's original artifact measure
    (``NABF1`` there) sums 2 - Q^AF - Q^BF instead and is not this value.
    """
    sums = map_row_blocks(_block_sums, *sobel_mirror(x, "a"), *sobel_mirror(x, "b"), *sobel_mirror(x, "fused"))
    return float(sum(part[0] for part in sums) / sum(part[1] for part in sums))
