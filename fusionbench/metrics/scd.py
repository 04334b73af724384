"""SCD: the sum of the correlations of differences (Aslantas & Bendes 2015).

V. Aslantas, E. Bendes, "A new image quality metric for image fusion: The sum of the
correlations of differences", AEU - International Journal of Electronics and Communications
69(12):1890-1896, 2015. Reference code: ``analysis_SCD.m`` (MFIF-Metrics), the source of the
golden values.
"""

from __future__ import annotations

import numpy as np

from ._matlab import sum_sequential
from .inputs import MetricInputs
from .registry import register_metric

__all__ = ["scd", "corr2"]

_OFFSET = 1e-5  # added to each difference image by the reference


def _centred(x: np.ndarray) -> np.ndarray:
    """``x - mean(x)``. For a constant image the mean is taken as Octave's ``corr2`` takes it
    (``sum`` left to right, then divided by the count): its rounding leaves a constant residue,
    which is exactly 0 for a constant that sums exactly (e.g. any integer level) but not for
    one such as 1e-5 (the offset of SCD's difference images)."""
    if x.min() == x.max():
        return x - sum_sequential(x.ravel()) / x.size
    return x - x.mean()


def corr2(x: np.ndarray, y: np.ndarray) -> float:
    """MATLAB/Octave ``corr2``: Pearson correlation of all pixels. For a constant image it
    returns what the reference returns: NaN (0 / 0) when the mean's rounding residue is
    exactly 0, and otherwise a rounding-level value (|r| ~ 1e-16; the image's residue is a
    constant, so r = sum(y - mean(y)) / sqrt(n sum((y - mean(y))^2)))."""
    xc = _centred(x)
    yc = _centred(y)
    denominator = np.sqrt(np.sum(xc * xc) * np.sum(yc * yc))
    if denominator == 0:
        return float("nan")
    return float(np.sum(xc * yc) / denominator)


@register_metric(
    "SCD",
    needs=("a", "b", "fused"),
    higher_is_better=True,
    range=(-2, 2),
    reference="Aslantas & Bendes 2015, AEU 69(12); MFIF-Metrics analysis_SCD.m",
)
def scd(x: MetricInputs) -> float:
    """Sum of the correlations of differences (Aslantas & Bendes 2015), ``analysis_SCD(A, B, F)``:
    corr2(F - B + 1e-5, A) + corr2(F - A + 1e-5, B), each ``corr2`` the Pearson correlation
    over all pixels. The difference F - B is what the fused image took from A, so each term
    asks how much of a source's information the fused image carries. Range [-2, 2].

    Degenerate inputs, as the reference: where F = A (or F = B, or F - A is any constant),
    F - A + 1e-5 is a constant that does not sum exactly, and ``corr2`` of it is a rounding-level
    value (~1e-16), so that term adds ~0 (F = A = B gives ~0). NaN when a source is constant at
    an integer level (its mean is exact, ``corr2`` divides 0 by 0).
    """
    a, b, f = x.a, x.b, x.fused
    return corr2(f - b + _OFFSET, a) + corr2(f - a + _OFFSET, b)
