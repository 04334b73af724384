"""DeepFuse (K. R. Prabhakar, V. S. Srikar and R. V. Babu, "DeepFuse: A Deep Unsupervised Approach
for Exposure Fusion with Extreme Exposure Image Pairs", ICCV 2017, pp. 4714-4722).

Two feature layers with tied weights, fusion by addition, three reconstruction layers, trained
by fusionbench without ground truth with the MEF-SSIM loss (:mod:`fusionbench.nets.deepfuse`,
training record in ``reports/training/deepfuse.md``).

The network fuses luminance; colour pairs use the registry's colour policy, whose chroma rule
``(C_1 |C_1 - 128| + C_2 |C_2 - 128|) / (|C_1 - 128| + |C_2 - 128|)`` is the paper's own. Other
parameters (``weights``, ``device``, ``max_pixels``, ``tile``): :mod:`fusionbench.nets.method`.
"""

from __future__ import annotations

import numpy as np

from fusionbench.nets.method import LocalNetworkMethod
from fusionbench.registry import register_method

__all__ = ["DeepFuseMethod"]


@register_method("deepfuse", reference="Prabhakar, Srikar & Babu, ICCV 2017")
class DeepFuseMethod(LocalNetworkMethod):
    """DeepFuse: tied feature layers, addition, reconstruction; Y by the network."""

    trained = "deepfuse"
    radius = 12  # fusionbench.nets.deepfuse.RECEPTIVE_RADIUS (checked by a test; no torch import here)

    @classmethod
    def load_network(cls, path: str):
        from fusionbench.nets.deepfuse import DeepFuse

        model = DeepFuse()
        cls.load_checked(model, path, "the DeepFuse network")
        return model.eval()

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        model = self.model()
        return self.run(lambda x, y: model(x, y).clamp(0.0, 1.0), a[np.newaxis], b[np.newaxis])[0]
