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
* ``rule="mean"``: element-wise mean. For two sources a MEAN network is a SUM network with its
  (linear, bias-free) CONV3 weights doubled, the same function: ``mean`` runs the
  ``ifcnn-sum`` weights and equals ``sum``.

The network fuses RGB: gray pairs are replicated to three channels and the output is
converted back to gray with MATLAB's ``rgb2gray`` weights. Other parameters (``weights``,
``device``, ``max_pixels``, ``tile``): :mod:`fusionbench.nets.method`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from fusionbench.io import RGB2GRAY_COEFFS
from fusionbench.nets.method import LocalNetworkMethod
from fusionbench.registry import register_method

__all__ = ["IFCNNMethod"]


@register_method("ifcnn", reference="Zhang et al., Information Fusion 54, 2020")
class IFCNNMethod(LocalNetworkMethod):
    """IFCNN with the element-wise ``max``, ``sum`` or ``mean`` fusion rule."""

    color: ClassVar[str] = "native"
    shipped_weights_caveat: ClassVar[str] = (
        "the shipped weights were trained here from scratch on a CPU, without the authors' ImageNet ResNet-101 "
        "first layer and perceptual loss: IFCNN-MAX loses fine detail against the authors' images (Qabf 6.9 % "
        "below theirs on Lytro); reports/validation/ifcnn.md, reports/training/ifcnn.md")
    trained = "ifcnn"
    radius = 5  # fusionbench.nets.ifcnn.RECEPTIVE_RADIUS (checked by a test; no torch import here)

    rule: Literal["max", "sum", "mean"] = "max"

    @property
    def shipped(self) -> str:  # the shipped weights for the rule (see the module docstring)
        return "ifcnn-max" if self.rule == "max" else "ifcnn-sum"

    @classmethod
    def load_network(cls, path: str):
        from fusionbench.nets.ifcnn import IFCNN, RULES
        from fusionbench.nets.weights import WeightsError, read_metadata

        trained = read_metadata(path).get("rule")
        if trained not in RULES:
            raise WeightsError(f"{path}: no IFCNN fusion rule recorded (metadata 'rule' is {trained!r})")
        model = IFCNN(trained)
        cls.load_checked(model, path, f"the IFCNN network ({trained})")
        return model.eval()

    def fuse_color(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        model = self.model()
        if (model.rule == "max") != (self.rule == "max"):
            from fusionbench.nets.weights import WeightsError

            raise WeightsError(f"{self.weights_path()}: IFCNN weights trained with rule {model.rule!r} cannot be "
                               f"used with {self.rule!r}; use weights trained with rule {self.rule!r}")
        gray = a.ndim == 2
        if gray:
            a, b = (np.repeat(x[np.newaxis], 3, axis=0) for x in (a, b))
        else:
            a, b = (np.moveaxis(x, 2, 0) for x in (a, b))
        fused = self.run(lambda x, y: model(x, y).clamp(0.0, 1.0), a, b)
        if gray:
            return np.tensordot(np.asarray(RGB2GRAY_COEFFS, dtype=np.float32), fused, axes=1)
        return np.moveaxis(fused, 0, 2)
