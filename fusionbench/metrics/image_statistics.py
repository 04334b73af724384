"""No-reference statistics of the fused image: AVG, STD, SEN, SF, EI.

Definitions follow the MATLAB files of Liu et al.'s MFIF-Metrics (``fusion-metrics/AG.m``,
``SD.m``, ``EN.m``, ``SF.m``, ``metricsEdge_intensity.m``), the reference code of the golden
values. All take the gray fused image on [0, 255].
"""

from __future__ import annotations

import numpy as np

from ._matlab import SOBEL, imfilter
from .inputs import MetricInputs
from .registry import register_metric

__all__ = ["avg", "std", "sen", "sf", "ei"]


def _forward_differences(x: MetricInputs) -> tuple[np.ndarray, np.ndarray]:
    """Forward differences along rows and columns, zero in the last row/column
    (``imfilter(F, [-1 1]', 'replicate')`` and ``imfilter(F, [-1 1], 'replicate')``)."""

    def compute() -> tuple[np.ndarray, np.ndarray]:
        f = x.fused
        gy = np.zeros_like(f)
        gx = np.zeros_like(f)
        np.subtract(f[1:, :], f[:-1, :], out=gy[:-1, :])
        np.subtract(f[:, 1:], f[:, :-1], out=gx[:, :-1])
        return gy, gx

    return x.cached(("forward_differences", "fused"), compute)


@register_metric(
    "AVG",
    aliases=["AG"],
    needs=("fused",),
    higher_is_better=True,
    range=(0, np.inf),
    reference="Cui et al. 2015 (average gradient); MFIF-Metrics AG.m",
)
def avg(x: MetricInputs) -> float:
    """Average gradient: mean over all H x W pixels of sqrt((dx^2 + dy^2) / 2), forward
    differences with replicated border (so the last row/column contributes 0)."""
    gy, gx = _forward_differences(x)
    return float(np.mean(np.sqrt((gx * gx + gy * gy) * 0.5)))


@register_metric(
    "STD",
    aliases=["SD"],
    needs=("fused",),
    higher_is_better=True,
    range=(0, np.inf),
    reference="Rao 1997 (standard deviation); MFIF-Metrics SD.m",
)
def std(x: MetricInputs) -> float:
    """Standard deviation as SD.m computes it: the mean over columns of each column's sample
    standard deviation (N-1), ``mean(std(F))`` - not the whole-image std. On a one-row image
    MATLAB's ``std`` works along the row, so that is the row's standard deviation."""
    f = x.fused
    return float(np.mean(np.std(f.ravel() if f.shape[0] == 1 else f, axis=0, ddof=1)))


def _histogram256(x: MetricInputs, role: str) -> np.ndarray:
    """Counts of the 256 gray levels; non-integer values are rounded half away from zero
    (EN.m indexes with the pixel value, which requires integers)."""

    def compute() -> np.ndarray:
        img = x.image(role)
        levels = np.clip(np.floor(img + 0.5), 0, 255).astype(np.intp)
        return np.bincount(levels.ravel(), minlength=256).astype(np.float64)

    return x.cached(("histogram256", role), compute)


@register_metric(
    "SEN",
    aliases=["EN"],
    needs=("fused",),
    higher_is_better=True,
    range=(0, 8),
    reference="Roberts et al. 2008 (Shannon entropy); MFIF-Metrics EN.m with 256 levels",
)
def sen(x: MetricInputs) -> float:
    """Shannon entropy in bits of the 256-bin gray-level histogram, ``EN(F, 256)``."""
    counts = _histogram256(x, "fused")
    p = counts[counts > 0] / counts.sum()
    return float(-np.sum(p * np.log2(p)))


@register_metric(
    "SF",
    needs=("fused",),
    higher_is_better=True,
    range=(0, np.inf),
    reference="Eskicioglu & Fisher 1995 (spatial frequency); MFIF-Metrics SF.m",
)
def sf(x: MetricInputs) -> float:
    """Spatial frequency sqrt(RF^2 + CF^2); both sums of squared differences are divided by
    M*N (all pixels), as SF.m does."""
    gy, gx = _forward_differences(x)
    n = x.fused.size
    return float(np.sqrt(np.sum(gy * gy) / n + np.sum(gx * gx) / n))


@register_metric(
    "EI",
    needs=("fused",),
    higher_is_better=True,
    range=(0, np.inf),
    reference="Rajalingam & Priya 2018 (edge intensity); MFIF-Metrics metricsEdge_intensity.m",
)
def ei(x: MetricInputs) -> float:
    """Edge intensity: mean Sobel gradient magnitude, ``imfilter`` with replicated border."""
    f = x.fused
    gx = imfilter(f, SOBEL, "replicate")
    gy = imfilter(f, SOBEL.T, "replicate")
    return float(np.mean(np.sqrt(gx * gx + gy * gy)))
