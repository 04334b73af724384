"""IFCNN (Y. Zhang, Y. Liu, P. Sun, H. Yan, X. Zhao and L. Zhang, "IFCNN: A general image fusion
framework based on convolutional neural network", Information Fusion 54:99-118, 2020).

Two convolutional feature layers, an element-wise fusion ``rule`` and two reconstruction
layers, trained by fusionbench on synthetic multi-focus pairs with ground truth, from scratch
(the authors start from an ImageNet ResNet-101, which cannot be downloaded here):
:mod:`fusionbench.nets.ifcnn`, training record in ``reports/training/ifcnn.md``.

* ``rule="max"``: element-wise maximum (the paper's IFCNN-MAX, for multi-focus images),
  weights ``ifcnn-max``;
* ``rule="sum"``: element-wise sum (IFCNN-SUM, infrared-visible and medical), weights
  ``ifcnn-sum``;
* ``rule="mean"``: element-wise mean; for two sources it is the SUM network exactly (its
  reconstruction layer rescaled), so it uses the ``ifcnn-sum`` weights.

The network fuses RGB: gray pairs are replicated to three channels and the output is
converted back to gray with MATLAB's ``rgb2gray`` weights. Other parameters (``weights``,
``max_pixels``, ``tile``, ``device``): :mod:`fusionbench.nets.method`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from fusionbench.io import RGB2GRAY_COEFFS
from fusionbench.nets.method import NetworkMethod
from fusionbench.registry import register_method

__all__ = ["IFCNNMethod"]


@register_method("ifcnn", reference="Zhang et al., Information Fusion 54, 2020")
class IFCNNMethod(NetworkMethod):
    """IFCNN with the element-wise ``max``, ``sum`` or ``mean`` fusion rule."""

    color: ClassVar[str] = "native"
    network = "ifcnn"

    rule: Literal["max", "sum", "mean"] = "max"

    def default_weights(self) -> str:
        return "ifcnn-max" if self.rule == "max" else "ifcnn-sum"

    def model_key(self) -> Any:
        return self.rule

    @classmethod
    def load_model(cls, path: Path, key: Any):
        from fusionbench.nets.ifcnn import IFCNN, RULES
        from fusionbench.nets.weights import WeightsError, read_metadata

        trained = read_metadata(path).get("rule")
        if trained not in RULES:
            raise WeightsError(f"{path}: no IFCNN fusion rule recorded (metadata 'rule' is {trained!r})")
        model = IFCNN(trained)
        cls.load_state(model, path, f"the IFCNN network ({trained})")
        try:
            model.convert_rule(key)
        except ValueError as exc:
            raise WeightsError(f"{path}: {exc}; use weights trained with rule {key!r}") from None
        return model.eval()

    def fuse_color(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        from fusionbench.nets.ifcnn import RECEPTIVE_RADIUS
        from fusionbench.nets.tiled import run_local

        gray = a.ndim == 2
        if gray:
            a, b = (np.repeat(x[np.newaxis], 3, axis=0) for x in (a, b))
        else:
            a, b = (np.moveaxis(x, 2, 0) for x in (a, b))
        model = self.model()
        fused = run_local(lambda x, y: model(x, y).clamp(0.0, 1.0), [a, b], RECEPTIVE_RADIUS,
                          max_pixels=self.max_pixels, tile=self.tile, device=self.device)
        if gray:
            return np.tensordot(np.asarray(RGB2GRAY_COEFFS, dtype=np.float32), fused, axes=1)
        return np.moveaxis(fused, 0, 2)
