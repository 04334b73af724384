"""SCD: the sum of the correlations of differences (Aslantas & Bendes 2015).

V. Aslantas, E. Bendes, "A new image quality metric for image fusion: The sum of the
correlations of differences", AEU - International Journal of Electronics and Communications
69(12):1890-1896, 2015. Reference code: ``analysis_SCD.m`` (MFIF-Metrics), the source of the
golden values.
"""

from __future__ import annotations

import numpy as np

from .inputs import MetricInputs
from .registry import register_metric

__all__ = ["scd", "corr2"]

_OFFSET = 1e-5  # added to each difference image by the reference


def corr2(x: np.ndarray, y: np.ndarray) -> float:
    """MATLAB ``corr2``: Pearson correlation of all pixels. NaN when either image is constant
    (0 / 0 in exact arithmetic; decided here rather than left to the rounding of the mean)."""
    if x.min() == x.max() or y.min() == y.max():
        return float("nan")
    xc = x - x.mean()
    yc = y - y.mean()
    return float(np.sum(xc * yc) / np.sqrt(np.sum(xc * xc) * np.sum(yc * yc)))


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
    asks how much of a source's information the fused image carries. Range [-2, 2]. NaN when
    a source is constant or a difference image is constant (e.g. F = A = B), where ``corr2``
    divides by zero.
    """
    a, b, f = x.a, x.b, x.fused
    return corr2(f - b + _OFFSET, a) + corr2(f - a + _OFFSET, b)
