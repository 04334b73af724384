"""MFF-GAN (H. Zhang, Z. Le, Z. Shao, H. Xu, J. Ma, "MFF-GAN: An unsupervised generative
adversarial network with adaptive and gradient joint constraints for multi-focus image
fusion", Information Fusion 66: 40-53, 2021).

The generator of :mod:`fusionbench.nets.mffgan` (trained adversarially by fusionbench, without
ground truth, on synthetic multi-focus pairs from BSDS500: ``reports/training/mffgan.md``)
fuses the two luminance channels end to end: ``Y`` on the 0..255 scale is mapped to
``(Y - 127.5) / 127.5``, the tanh output back. Colour follows the registry's policy, which is
the authors' (``main.m``: Y fused by the network, Cb and Cr weighted by ``|C - 128|``, BT.601
YCbCr). The first source goes to the generator's "near" branch, the second to "far". The
generator is local (receptive radius 5 pixels): pairs above ``max_pixels`` pixels are fused in
``tile`` x ``tile`` tiles with that halo, the same result with bounded memory.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from fusionbench.nets.method import LocalNetworkMethod
from fusionbench.registry import register_method

__all__ = ["MFFGANFusion"]


@register_method("mffgan", family="deep", reference="Zhang et al., MFF-GAN, Information Fusion 66, 2021")
class MFFGANFusion(LocalNetworkMethod):
    """MFF-GAN generator on the luminance."""

    # conv1 5x5 and conv2, conv3, conv4 3x3 on the longest path (the exchanges and the output
    # are 1x1): pairs above max_pixels are fused in exact tiles with this halo.
    radius: ClassVar[int] = 2 + 1 + 1 + 1

    shipped_weights_caveat: ClassVar[str] = (
        "the shipped generator comes from 40 minutes of CPU training in which the adversarial game did not "
        "converge: the scores understate MFF-GAN; reports/training/mffgan.md")

    @classmethod
    def load_network(cls, path: str):
        from fusionbench.nets.mffgan import MFFGenerator
        from fusionbench.nets.weights import load_state

        model = MFFGenerator()
        load_state(model, path, "the MFF-GAN generator")
        return model.eval()

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        import torch

        # Without oneDNN: with it, two identical calls now and then differed by ~2e-5 (1 in ~8 runs
        # of the contract test); PyTorch's own convolutions gave identical results in 70 runs.
        model = self.network().to(self.device)
        mkldnn_was_enabled = torch.backends.mkldnn.set_flags(False, _fp32_precision=None)[0]
        try:
            fused = self.run(model, *(np.asarray(x, dtype=np.float32)[np.newaxis] * 2 - 1 for x in (a, b)))[0]
        finally:
            torch.backends.mkldnn.set_flags(mkldnn_was_enabled, _fp32_precision=None)
        return (fused + 1) / 2
