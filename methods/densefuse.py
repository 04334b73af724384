"""DenseFuse (H. Li and X.-J. Wu, "DenseFuse: A Fusion Approach to Infrared and Visible Images",
IEEE Transactions on Image Processing 28(5):2614-2623, 2019).

An encoder (a convolution and a dense block, 64 feature channels) and a decoder trained by
fusionbench as an autoencoder on natural images; the encoder features of the two sources are
fused by ``rule`` and decoded (:mod:`fusionbench.nets.densefuse`, training record in
``reports/training/densefuse.md``):

* ``rule="add"``: the features are added (the paper's DenseFuse-ADD);
* ``rule="l1"``: weighted by their l1-norm activity, block-averaged over 3x3 (DenseFuse-L1).

The decoded image is stretched linearly onto the sources' joint range, as the authors' code
stretches it onto the 8-bit range (:func:`fusionbench.nets.densefuse.stretch`).

Gray network: colour pairs are fused on Y with the registry's colour policy. Other
parameters (``weights``, ``device``, ``max_pixels``, ``tile``): :mod:`fusionbench.nets.method`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from fusionbench.nets.method import LocalNetworkMethod
from fusionbench.registry import register_method

__all__ = ["DenseFuseMethod"]


@register_method("densefuse", reference="Li & Wu, IEEE TIP 28(5), 2019")
class DenseFuseMethod(LocalNetworkMethod):
    """DenseFuse with the addition (``add``) or l1-norm (``l1``) fusion rule."""

    trained = "densefuse"
    radius = 9  # fusionbench.nets.densefuse.RECEPTIVE_RADIUS (checked by a test; no torch import here)

    rule: Literal["add", "l1"] = "add"

    @classmethod
    def load_network(cls, path: str):
        from fusionbench.nets.densefuse import DenseFuse

        model = DenseFuse()
        cls.load_checked(model, path, "the DenseFuse network")
        return model.eval()

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        from fusionbench.nets.densefuse import stretch

        model = self.model()
        decoded = self.run(lambda x, y: model.fuse(x, y, self.rule), a[np.newaxis], b[np.newaxis])[0]
        return stretch(decoded, min(a.min(), b.min()), max(a.max(), b.max()))
