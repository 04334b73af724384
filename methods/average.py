"""Pixel-wise average of the two sources: the simplest baseline, the lower bound any method
should beat on multi-focus data."""

from __future__ import annotations

import numpy as np

from fusionbench.registry import FusionMethod, register_method


@register_method("average", family="spatial", reference="(baseline) arithmetic mean of the sources")
class Average(FusionMethod):
    """F = (A + B) / 2. No parameters."""

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a + b) * np.float32(0.5)
