"""DeepFuse (K. R. Prabhakar, V. S. Srikar and R. V. Babu, "DeepFuse: A Deep Unsupervised Approach
for Exposure Fusion with Extreme Exposure Image Pairs", ICCV 2017, pp. 4714-4722).

Two feature layers with tied weights, fusion by addition, three reconstruction layers, trained
by fusionbench without ground truth with the MEF-SSIM loss (:mod:`fusionbench.nets.deepfuse`,
training record in ``reports/training/deepfuse.md``).

The network fuses luminance; colour pairs use the registry's colour policy, whose chroma rule
``(C_1 |C_1 - 128| + C_2 |C_2 - 128|) / (|C_1 - 128| + |C_2 - 128|)`` is the paper's own. Other
parameters (``weights``, ``max_pixels``, ``tile``, ``device``): :mod:`fusionbench.nets.method`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fusionbench.nets.method import NetworkMethod
from fusionbench.registry import register_method

__all__ = ["DeepFuseMethod"]


@register_method("deepfuse", reference="Prabhakar, Srikar & Babu, ICCV 2017")
class DeepFuseMethod(NetworkMethod):
    """DeepFuse: tied feature layers, addition, reconstruction; Y by the network."""

    network = "deepfuse"

    @classmethod
    def load_model(cls, path: Path, key: Any):
        from fusionbench.nets.deepfuse import DeepFuse

        model = DeepFuse()
        cls.load_state(model, path, "the DeepFuse network")
        return model.eval()

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        from fusionbench.nets.deepfuse import RECEPTIVE_RADIUS
        from fusionbench.nets.tiled import run_local

        model = self.model()
        fused = run_local(lambda x, y: model(x, y).clamp(0.0, 1.0), [a[np.newaxis], b[np.newaxis]], RECEPTIVE_RADIUS,
                          max_pixels=self.max_pixels, tile=self.tile, device=self.device)
        return fused[0]
