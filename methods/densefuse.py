"""DenseFuse (H. Li and X.-J. Wu, "DenseFuse: A Fusion Approach to Infrared and Visible Images",
IEEE Transactions on Image Processing 28(5):2614-2623, 2019).

An encoder (a convolution and a dense block, 64 feature channels) and a decoder trained by
fusionbench as an autoencoder on natural images; the encoder features of the two sources are
fused by ``rule`` and decoded (:mod:`fusionbench.nets.densefuse`, training record in
``reports/training/densefuse.md``):

* ``rule="add"``: the features are added (the paper's DenseFuse-ADD);
* ``rule="l1"``: weighted by their l1-norm activity, block-averaged over 3x3 (DenseFuse-L1).

Gray network: colour pairs are fused on Y with the registry's colour policy. Other
parameters (``weights``, ``max_pixels``, ``tile``, ``device``): :mod:`fusionbench.nets.method`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np

from fusionbench.nets.method import NetworkMethod
from fusionbench.registry import register_method

__all__ = ["DenseFuseMethod"]


@register_method("densefuse", reference="Li & Wu, IEEE TIP 28(5), 2019")
class DenseFuseMethod(NetworkMethod):
    """DenseFuse with the addition (``add``) or l1-norm (``l1``) fusion rule."""

    network = "densefuse"

    rule: Literal["add", "l1"] = "add"

    @classmethod
    def load_model(cls, path: Path, key: Any):
        from fusionbench.nets.densefuse import DenseFuse

        model = DenseFuse()
        cls.load_state(model, path, "the DenseFuse network")
        return model.eval()

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        from fusionbench.nets.densefuse import RECEPTIVE_RADIUS
        from fusionbench.nets.tiled import run_local

        model = self.model()
        fused = run_local(lambda x, y: model.fuse(x, y, self.rule), [a[np.newaxis], b[np.newaxis]], RECEPTIVE_RADIUS,
                          max_pixels=self.max_pixels, tile=self.tile, device=self.device)
        return fused[0]
