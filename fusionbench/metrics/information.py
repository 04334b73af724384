"""Information-theoretic fusion metrics on 256-bin joint histograms: MI and NCIE.

Definitions follow the MATLAB files of Liu et al.'s MFIF-Metrics (``fusion-metrics/metricMI.m``
with ``mutual_info.m``, ``metricWang.m`` with ``NCC.m``, both after ``normalize1.m``), the
reference code of the golden values. Shared conventions:

* **Rescaling** (``normalize1.m``): each image is stretched to its own full range,
  ``round((x - min) / (max - min) * 255)`` (MATLAB ``round``, half away from zero), so the
  metrics do not depend on the inputs' contrast. An all-zero image is kept as it is; any other
  constant image makes ``max - min = 0`` and the MATLAB code stops with an indexing error -
  here the metric is NaN.
* **Histograms**: 256 x 256 joint histogram of the rescaled gray levels over all pixels (no
  border excluded), divided by the pixel count; marginals are its row and column sums.
* **Logarithms**: base 2 (bits); ``0 log 0 = 0``.
"""

from __future__ import annotations

import numpy as np

from .inputs import MetricInputs
from .registry import register_metric

__all__ = ["mi", "ncie", "te", "tsallis", "normalize_to_256_levels", "joint_histogram256"]

_LEVELS = 256

# (H(X), H(Y), H(X, Y)) in bits.
Entropies = tuple[np.float64, np.float64, np.float64]


def _matlab_round(x: np.ndarray) -> np.ndarray:
    """MATLAB ``round`` for non-negative values (half away from zero), exact for every double."""
    lower = np.floor(x)
    return lower + (x - lower >= 0.5)


def normalize_to_256_levels(image: np.ndarray) -> np.ndarray | None:
    """``normalize1.m``: stretch to [0, 255] and round; ``None`` for a constant non-zero image
    (the MATLAB function returns NaNs there, which its callers cannot use)."""
    hi = float(image.max())
    lo = float(image.min())
    if hi == 0 and lo == 0:
        return image
    if hi == lo:
        return None
    return _matlab_round((image - lo) / (hi - lo) * 255.0)


def joint_histogram256(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Joint probability table ``h[i, j] = P(x = i, y = j)`` of two images with integer levels
    0..255 (``x`` indexes rows, as in ``mutual_info.m``)."""
    codes = x.astype(np.intp).ravel() * _LEVELS + y.astype(np.intp).ravel()
    counts = np.bincount(codes, minlength=_LEVELS * _LEVELS).astype(np.float64)
    return counts.reshape(_LEVELS, _LEVELS) / counts.sum()


def _entropy(p: np.ndarray) -> np.float64:
    """-sum p log2 p over all entries, with 0 log 0 = 0 (``-sum(p.*log2(p + (p==0)))``);
    a numpy float, so that 0/0 further on is NaN as in MATLAB."""
    return -np.sum(p * np.log2(p + (p == 0)))


def _normalized(x: MetricInputs, role: str) -> np.ndarray | None:
    return x.cached(("normalize1", role), lambda: normalize_to_256_levels(x.image(role)))


def _entropies(x: MetricInputs, role1: str, role2: str) -> Entropies | None:
    """(H(role1), H(role2), H(role1, role2)) in bits from the joint histogram of the rescaled
    images; ``None`` when one of them is a constant non-zero image."""

    def compute() -> Entropies | None:
        im1, im2 = _normalized(x, role1), _normalized(x, role2)
        if im1 is None or im2 is None:
            return None
        h = joint_histogram256(im1, im2)
        return _entropy(h.sum(axis=1)), _entropy(h.sum(axis=0)), _entropy(h)

    return x.cached(("joint_entropies256", role1, role2), compute)


@register_metric(
    "MI",
    aliases=["QMI", "NMI"],
    needs=("a", "b", "fused"),
    higher_is_better=True,
    range=(0, 2),
    reference="Hossny et al. 2008 (revised/normalised MI, Electronics Letters 44(18)); "
    "MFIF-Metrics metricMI.m option 1",
)
def mi(x: MetricInputs) -> float:
    """Normalised mutual information of Hossny et al. (``metricMI(A, B, F, 1)``):
    ``2 * (I(A;F) / (H(A) + H(F)) + I(B;F) / (H(B) + H(F)))``, in [0, 2].

    This is the *normalised* MI (MFIF-Metrics calls it QMI, MEFB's ``metricsNMI`` computes it
    too; alias NMI). The un-normalised MI of Qu et al. 2002, MI(A;F) + MI(B;F), is what VIFB
    and CDDFuse's evaluator report as "MI" (in nats): the ``vifb`` and ``cddfuse``
    conventions (:mod:`fusionbench.metrics.conventions`).

    Entropies in bits from 256-bin (joint) histograms of the images after ``normalize1``
    (each stretched to 0..255 and rounded; see the module docstring). NaN when an image is
    constant and non-zero (MATLAB errors there) and when A and F (or B and F) are both all
    zero (0/0).
    """
    af = _entropies(x, "a", "fused")
    bf = _entropies(x, "b", "fused")
    if af is None or bf is None:
        return float("nan")
    h_a, h_f, h_af = af
    h_b, _, h_bf = bf
    i_af = h_a + h_f - h_af
    i_bf = h_b + h_f - h_bf
    return float(2.0 * (i_af / (h_a + h_f) + i_bf / (h_b + h_f)))


def _nonlinear_correlation(entropies: Entropies) -> np.float64:
    """``NCC.m``: (H(X) + H(Y) - H(X, Y)) / log2(256), the MI in units of 8 bits."""
    h_x, h_y, h_xy = entropies
    return h_x / 8.0 + h_y / 8.0 - h_xy / 8.0


@register_metric(
    "NCIE",
    aliases=["QNCIE"],
    needs=("a", "b", "fused"),
    higher_is_better=True,
    range=(1 - np.log(3) / np.log(_LEVELS), 1),
    reference="Wang, Shen & Jin 2008 (nonlinear correlation information entropy, in Stathaki "
    "(ed.), Image Fusion, ch. 19); MFIF-Metrics metricWang.m",
)
def ncie(x: MetricInputs) -> float:
    """Nonlinear correlation information entropy (``metricWang(A, B, F)``).

    The nonlinear correlation coefficients NCC(A,B), NCC(A,F), NCC(B,F) (mutual information
    of the ``normalize1``-rescaled images from 256-bin joint histograms, divided by
    log2(256) = 8) form a 3 x 3 correlation matrix R with unit diagonal; with its eigenvalues
    r_i, ``NCIE = 1 + sum_i (r_i / 3) log_256(r_i / 3)``. Since the r_i sum to 3, NCIE lies
    in [1 - log_256(3), 1] = [0.802, 1] (uncorrelated to fully correlated). NaN when an image is
    constant and non-zero (MATLAB errors there) or when R has a zero or negative eigenvalue
    (the MATLAB code would give NaN or a complex value).
    """
    pairs = [_entropies(x, r1, r2) for r1, r2 in (("a", "b"), ("a", "fused"), ("b", "fused"))]
    if any(p is None for p in pairs):
        return float("nan")
    ncc_ab, ncc_af, ncc_bf = (_nonlinear_correlation(p) for p in pairs)
    r = np.array([[1.0, ncc_ab, ncc_af], [ncc_ab, 1.0, ncc_bf], [ncc_af, ncc_bf, 1.0]])
    eigenvalues = np.linalg.eigvalsh(r)
    k = 3.0
    hr = np.sum(eigenvalues * np.log2(eigenvalues / k) / k)
    return float(1.0 - (-hr / np.log2(_LEVELS)))


# Cvejic et al.'s constant in metricMI(..., 2).
_TSALLIS_Q = 1.85


def tsallis(x: np.ndarray, y: np.ndarray, q: float = _TSALLIS_Q) -> float:
    """``tsallis.m`` of two images with integer levels 0..255: (1 - S) / (1 - q) with
    S = sum_{i,j} p(i, j)^q / (m_c(i) m_r(j))^(q - 1) over the cells whose denominator is
    non-zero, p the joint table (x indexes rows). As in the reference, m_c is the marginal
    over rows (``sum(h)``, i.e. y's distribution) and m_r the marginal over columns (x's),
    so the product pairs row index i with y's marginal: this is the reference's formula,
    not the textbook Tsallis mutual information p(i, j)^q / (p_x(i) p_y(j))^(q - 1)."""
    h = joint_histogram256(x, y)
    column_sums = h.sum(axis=0)
    row_sums = h.sum(axis=1)
    denominator = np.outer(column_sums, row_sums)
    used = denominator != 0
    s = np.sum(h[used] ** q / denominator[used] ** (q - 1.0))
    return float((1.0 - s) / (1.0 - q))


@register_metric(
    "TE",
    aliases=["QTE"],
    needs=("a", "b", "fused"),
    higher_is_better=True,
    range=(-2.0 / (_TSALLIS_Q - 1.0), np.inf),
    reference="Cvejic, Canagarajah & Bull 2006 (Tsallis entropy, Electronics Letters 42(11)); "
    "MFIF-Metrics metricMI.m option 2",
)
def te(x: MetricInputs) -> float:
    """Tsallis-entropy fusion metric of Cvejic et al., ``metricMI(A, B, F, 2)``:
    tsallis(A, F) + tsallis(B, F) with q = 1.85 (:func:`tsallis`), on the images after
    ``normalize1`` (stretched to 0..255 and rounded, as for MI). Higher means more shared
    information; each term is at least -1/(q - 1), so TE >= -2.35, with no upper bound.
    NaN when an image is constant and non-zero (MATLAB errors there).
    """
    im_a, im_b, im_f = _normalized(x, "a"), _normalized(x, "b"), _normalized(x, "fused")
    if im_a is None or im_b is None or im_f is None:
        return float("nan")
    return tsallis(im_a, im_f) + tsallis(im_b, im_f)
