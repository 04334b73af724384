"""Choose-max (max-abs) pixel rule: the simplest selection baseline."""

from __future__ import annotations

import numpy as np

from fusionbench.registry import FusionMethod, register_method

from ._pyramid import select_max_abs


@register_method("max", family="spatial", reference="(baseline) pixel-wise choose-max, |A| >= |B| -> A")
class ChooseMax(FusionMethod):
    """F = A where |A| >= |B|, else B (pixel by pixel; for images in [0, 1] this is max(A, B)).
    No parameters. Colour through the shared YCbCr policy (the rule is applied to Y)."""

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return select_max_abs(a, b)
