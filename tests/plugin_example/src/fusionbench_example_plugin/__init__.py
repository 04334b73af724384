"""Example fusionbench plugin: a weighted average, F = w A + (1 - w) B."""

from __future__ import annotations

import numpy as np

from fusionbench import FusionMethod, register_method


@register_method("example-weighted", family="spatial", reference="(example plugin) weighted average")
class WeightedAverage(FusionMethod):
    """F = weight * A + (1 - weight) * B; ``weight`` in [0, 1] (default 0.5)."""

    weight: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"example-weighted: weight must be in [0, 1], got {self.weight!r}")

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.float32(self.weight) * a + np.float32(1.0 - self.weight) * b
