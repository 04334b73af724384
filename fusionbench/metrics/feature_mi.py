"""Feature mutual information (FMI) of Haghighat et al., with MATLAB's default edge detector.

Reference code of the golden values: ``fmi.m`` of MFIF-Metrics (Haghighat & Razian's Fast-FMI)
called as ``fmi(A, B, F)``, i.e. feature ``'edge'`` (MATLAB ``edge(I)``) and a 3 x 3 sliding
window. That file loops over every window in interpreted code (minutes per image); this module
computes the same numbers by noticing that an edge map is binary, so a 3 x 3 window is one of
512 patterns and the per-window value depends only on the pair of patterns (source, fused).
Each distinct pair present in the image is evaluated once, vectorised; the map mean is a
count-weighted sum.
"""

from __future__ import annotations

import numpy as np

from .inputs import MetricInputs
from .registry import register_metric

__all__ = ["fmi", "edge_sobel", "feature_mutual_information"]

_EPS = np.finfo(np.float64).eps
_WINDOW = 3
_CELLS = _WINDOW * _WINDOW  # 9 pixels per window
_PATTERNS = 1 << _CELLS  # 512 binary 3 x 3 patterns
_ALL_ONES = _PATTERNS - 1


def edge_sobel(image: np.ndarray) -> np.ndarray:
    """MATLAB's default ``edge(I)`` for a double image: Sobel, automatic threshold, thinning.

    As in the Image Processing Toolbox's portable code path (``computeEdgeSobelPrewittPortable``
    and ``computeEdgesWithThinningPortable``, kx = ky = 1, offset 0):
    ``bx = imfilter(I, fspecial('sobel')'/8, 'replicate')``, ``by`` likewise with the
    untransposed kernel, ``b = bx^2 + by^2``, ``cutoff = 4 * mean(b)``. A pixel is an edge when
    ``b > cutoff`` and either ``|bx| >= |by| - 100 eps`` and ``b`` is a horizontal local maximum
    (``b[r, c-1] <= b[r, c] > b[r, c+1]``), or ``|by| >= |bx| - 100 eps`` and ``b`` is a
    vertical one (``b[r-1, c] <= b[r, c] > b[r+1, c]``); a neighbour outside the image counts
    as satisfied. The image is used on its own scale (no rescaling to [0, 1]).

    For integer-valued images (8-bit data) every quantity is exact, so the map equals
    MATLAB's bit for bit; for other values the separable filtering here may differ from
    ``imfilter`` in the last bit, which can flip exact ties of the thinning test.
    """
    image = np.asarray(image, dtype=np.float64)
    # fspecial('sobel') is separable: [1 2 1] along one axis, [1 0 -1] along the other.
    padded = np.pad(image, 1, mode="edge")
    smooth_rows = 2.0 * padded[1:-1, :]
    smooth_rows += padded[:-2, :]
    smooth_rows += padded[2:, :]
    smooth_cols = 2.0 * padded[:, 1:-1]
    smooth_cols += padded[:, :-2]
    smooth_cols += padded[:, 2:]
    bx = smooth_rows[:, :-2] - smooth_rows[:, 2:]
    bx *= 0.125  # the kernel's 1/8, exact (power of two)
    by = smooth_cols[:-2, :] - smooth_cols[2:, :]
    by *= 0.125
    b = bx * bx
    b += by * by
    cutoff = 4.0 * (b.sum() / b.size)

    # Thinning, evaluated only where b > cutoff. Padding b with -inf makes every comparison
    # with a neighbour outside the image true, as MATLAB's border rule says.
    rows, cols = np.nonzero(b > cutoff)
    b_pad = np.full((b.shape[0] + 2, b.shape[1] + 2), -np.inf)
    b_pad[1:-1, 1:-1] = b
    centre = b[rows, cols]
    abs_bx = np.abs(bx[rows, cols])
    abs_by = np.abs(by[rows, cols])
    horizontal = (
        (abs_bx >= abs_by - 100 * _EPS)
        & (b_pad[rows + 1, cols] <= centre)
        & (centre > b_pad[rows + 1, cols + 2])
    )
    vertical = (
        (abs_by >= abs_bx - 100 * _EPS)
        & (b_pad[rows, cols + 1] <= centre)
        & (centre > b_pad[rows + 2, cols + 1])
    )
    edges = np.zeros(b.shape, dtype=bool)
    edges[rows, cols] = horizontal | vertical
    return edges


def _window_patterns(feature: np.ndarray) -> np.ndarray:
    """Code 0..511 of every full 3 x 3 window of a binary map (shape (H-2, W-2)); bit k is the
    window's k-th pixel in MATLAB's column-major order (``sub(:)``), which fixes the order of
    the CDFs that fmi.m builds."""
    column_bits = feature.astype(np.uint16)
    # 3-bit codes of vertical triples (bit = row offset), then three of them side by side
    # (shifted by 3 x column offset).
    triples = column_bits[:-2, :] | (column_bits[1:-1, :] << 1) | (column_bits[2:, :] << 2)
    return triples[:, :-2] | (triples[:, 1:-1] << 3) | (triples[:, 2:] << 6)


def _sequential_sum(values: np.ndarray) -> np.ndarray:
    """Sum along the last axis left to right, as MATLAB's loops and ``sum`` accumulate."""
    return np.cumsum(values, axis=-1)[..., -1]


class _PatternStatistics:
    """fmi.m's per-window quantities for all 512 binary 3 x 3 patterns.

    A window, min-max normalised (an all-zero window, like any constant one, becomes all
    ones) and divided by its sum, is a PDF over its 9 positions in column-major order. Kept
    per pattern: the PDF and CDF, both also spread over the 81 cells (i, j) of a joint table
    (flattened 9 i + j) as the row (i) or the column (j) variable, the deviations from the
    mean PDF value, the population standard deviation of the position and the entropy (bits).
    """

    def __init__(self) -> None:
        bits = (np.arange(_PATTERNS)[:, None] >> np.arange(_CELLS)) & 1
        bits[0] = 1
        bits = bits.astype(np.float64)
        pdf = bits / bits.sum(axis=1, keepdims=True)
        cdf = np.cumsum(pdf, axis=1)
        row, col = np.divmod(np.arange(_CELLS * _CELLS), _CELLS)
        self.pdf_row, self.pdf_col = pdf[:, row], pdf[:, col]
        self.cdf_row, self.cdf_col = cdf[:, row], cdf[:, col]
        self.deviation = pdf - (_sequential_sum(pdf) / _CELLS)[:, None]
        self.deviation_energy = _sequential_sum(self.deviation * self.deviation)
        position = np.arange(1, _CELLS + 1, dtype=np.float64)
        self.sd = np.sqrt(_sequential_sum(position**2 * pdf) - _sequential_sum(position * pdf) ** 2)
        self.entropy = _sequential_sum(-pdf * np.log2(np.where(pdf != 0, pdf, 1.0)))


_STATS = _PatternStatistics()


def _pair_fmi(source_codes: np.ndarray, fused_codes: np.ndarray) -> np.ndarray:
    """Normalised MI of fmi.m for windows with patterns ``source_codes`` and ``fused_codes``
    (1-D arrays of equal length, codes different), one value per pair.

    Per window: the two normalised windows are PDFs p (source, index j) and q (fused, index
    i) over the 9 positions; their Pearson correlation c selects Nelsen's upper (c >= 0) or
    lower (c < 0) Frechet bound H of the joint CDF, mixed with independence by
    w = c / corr(H) (w = 0 when c = 0 or a PDF has zero spread): the joint PDF is
    w dH + (1 - w) q_i p_j. Its entropy uses the real part of MATLAB's complex log2 (a
    negative mass m adds -m log2|m|). The value is 2 MI / (H(p) + H(q)), 0 when MI is 0.
    c is computed with fmi.m's left-to-right sums, bit for bit: for a uniform PDF (an
    empty or full window) the nine 1/9 add up to 1 + 2^-52, the deviations from the mean are
    -2.8e-17 rather than 0, and c is decided by these residues (two uniform PDFs correlate
    with c = 1, so such a pair of different windows scores about 1, not 0). The other sums
    may differ from fmi.m's order in the last bits, which moves the value by ~1e-16.
    """
    st = _STATS
    n = source_codes.size
    cross = _sequential_sum(st.deviation[source_codes] * st.deviation[fused_codes])
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = np.sqrt(st.deviation_energy[source_codes] * st.deviation_energy[fused_codes])
        c = np.where(cross == 0, 0.0, cross / norm)
    positive = c >= 0
    p_sd, q_sd = st.sd[source_codes], st.sd[fused_codes]

    f_i = st.cdf_row[fused_codes]  # (n, 81): F_i at cell (i, j)
    a_j = st.cdf_col[source_codes]  # (n, 81): A_j at cell (i, j)
    # Upper bound min(F_i, A_j) and lower bound max(F_i + A_j - 1, 0), written as fmi.m does.
    total = f_i + a_j
    bound = np.abs(f_i - a_j)
    np.subtract(total, bound, out=bound)
    bound *= 0.5
    if not positive.all():
        shifted = total[~positive] - 1
        bound[~positive] = 0.5 * (shifted + np.abs(shifted))

    product = f_i
    product *= a_j
    cov_bound = bound.sum(axis=1) - product.sum(axis=1)
    degenerate = (p_sd == 0) | (q_sd == 0) | (positive & (c == 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(degenerate, 0.0, c / (cov_bound / (q_sd * p_sd)))

    # Mass of cell (i, j) under the bound: H(i,j) - H(i-1,j) - H(i,j-1) + H(i-1,j-1), H = 0
    # outside the table.
    mass = bound.copy()
    mass[:, _CELLS:] -= bound[:, :-_CELLS]
    mass3 = mass.reshape(n, _CELLS, _CELLS)
    mass3[:, :, 1:] -= mass3[:, :, :-1].copy()
    w = weight[:, None]
    jpdf = st.pdf_row[fused_codes]
    jpdf *= 1 - w
    jpdf *= st.pdf_col[source_codes]
    mass *= w
    jpdf += mass
    nonzero = jpdf != 0
    log_mass = np.zeros_like(jpdf)
    np.log2(np.abs(jpdf), out=log_mass, where=nonzero)
    joint_entropy = -np.einsum("ij,ij->i", jpdf, log_mass)

    h_p, h_q = st.entropy[source_codes], st.entropy[fused_codes]
    mutual = h_p + h_q - joint_entropy
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mutual == 0, 0.0, 2.0 * mutual / (h_p + h_q))


def _pair_counts(source_codes: np.ndarray, fused_codes: np.ndarray) -> np.ndarray:
    """How many windows have each (source pattern, fused pattern) pair, indexed
    ``source * 512 + fused``."""
    pair_codes = source_codes.astype(np.intp).ravel() * _PATTERNS + fused_codes.ravel()
    return np.bincount(pair_codes, minlength=_PATTERNS * _PATTERNS)


def feature_mutual_information(
    feature_a: np.ndarray, feature_b: np.ndarray, feature_fused: np.ndarray
) -> float:
    """fmi.m's sliding-window part for binary feature maps and a 3 x 3 window: the mean over
    all full windows (borders of 1 pixel excluded) of (FMI(A,F) + FMI(B,F)) / 2; NaN when an
    image is smaller than 3 x 3 (no window).

    fmi.m overwrites the fused window with its normalised copy while computing FMI(A,F) and
    reuses it for FMI(B,F); for binary windows this only matters when the fused window is
    all zero and differs from A's (it then reads as all ones), and is reproduced here.
    """
    codes_a = _window_patterns(np.asarray(feature_a, dtype=bool))
    codes_b = _window_patterns(np.asarray(feature_b, dtype=bool))
    codes_f = _window_patterns(np.asarray(feature_fused, dtype=bool))
    if codes_f.size == 0:
        return float("nan")
    codes_f_seen_by_b = np.where((codes_a != codes_f) & (codes_f == 0), _ALL_ONES, codes_f)
    # Both terms are sums over the same windows, so the pair counts can simply be added.
    counts = _pair_counts(codes_a, codes_f) + _pair_counts(codes_b, codes_f_seen_by_b)
    present = np.flatnonzero(counts)
    source, fused = present // _PATTERNS, present % _PATTERNS
    values = np.ones(present.size)  # identical windows score 1
    differ = source != fused
    values[differ] = _pair_fmi(source[differ], fused[differ])
    return float(np.dot(counts[present], values)) / (2.0 * codes_f.size)


def _edges(x: MetricInputs, role: str) -> np.ndarray:
    return x.cached(("edge_sobel", role), lambda: edge_sobel(x.image(role)))


@register_metric(
    "FMI",
    aliases=["QFMI"],
    needs=("a", "b", "fused"),
    higher_is_better=True,
    range=(0, 1),
    reference="Haghighat, Aghagolzadeh & Seyedarabi 2011 (feature mutual information, Comput. "
    "Electr. Eng. 37(5)); Haghighat & Razian 2014 (Fast-FMI); MFIF-Metrics fmi.m",
)
def fmi(x: MetricInputs) -> float:
    """Feature mutual information ``fmi(A, B, F)`` (feature ``'edge'``, window 3).

    Features are MATLAB ``edge(I)`` maps (:func:`edge_sobel`); for every 3 x 3 window that
    fits inside the image (a 1-pixel border is left out), the normalised mutual information
    of the source and fused windows (each read as a PDF over its 9 pixels, joint PDF from
    Nelsen's Frechet-bound method; entropies in bits) is averaged over A-F and B-F, and the
    result is the mean over windows. Identical windows score 1. NaN for images smaller than
    3 x 3.
    """
    return feature_mutual_information(_edges(x, "a"), _edges(x, "b"), _edges(x, "fused"))
