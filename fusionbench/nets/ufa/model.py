"""The UFA-Fuse network (Zang et al., "UFA-FUSE: A novel deep supervised and hybrid model for
multi-focus image fusion", IEEE TIM 2021), Sec. III-A/B and Table II of the paper.

Layout (all convolutions stride 1, "same" padding):

* Feature extraction, shared by both inputs: FEB1 3x3 conv 3->64, FEB2..FEB7 3x3 conv
  64->64, each followed by LeakyReLU (slope 0.01).
* Unity fusion attention (UFA) on the FEB7 features F_1, F_2 (C = 64):

  - channel attention (Eqs. 5, 7, 8): A_k = global average pool of F_k (one value per
    channel), M^c_k = softmax over k of A_k, F'_k = M^c_k * F_k;
  - spatial attention (Eqs. 6, 9, 10): AM_k = conv7x7([mean over C of F'_k; max over C of
    F'_k]) (2 -> 1 channels, no activation, one convolution shared by both k),
    M^s_k = softmax over k of AM_k (per pixel), F''_k = M^s_k * F'_k.

  The 7x7 convolution has no bias: a bias shared by both inputs cancels in the softmax.
* Feature fusion block FFB: concatenate F''_1, F''_2 (128 channels), 1x1 conv 128->64, no
  activation.
* Image construction: ICB1..ICB3 3x3 conv 64->64 + LeakyReLU, ICB4 3x3 conv 64->3 + sigmoid.

344,229 parameters for the full model (Table II; "about 0.34 M").

Ablation variants (paper Sec. IV-B, Table IV): ``"no-ca"`` drops the channel attention
(F'_k = F_k), ``"no-sa"`` drops the spatial attention (F''_k = F'_k) and ``"no-ufa"``
concatenates F_1, F_2 directly.

Inputs and output are float tensors (N, 3, H, W) in [0, 1]. The channel attention pools over
the whole image, so the output at one pixel depends on every pixel; tiled inference
(:mod:`fusionbench.nets.ufa.inference`) stays exact by computing the pooled means A_k first and
passing them in as ``channel_means``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

__all__ = ["VARIANTS", "UFAFuse", "Attention", "LEAKY_SLOPE", "receptive_radius"]

VARIANTS = ("full", "no-ca", "no-sa", "no-ufa")
LEAKY_SLOPE = 0.01
CHANNELS = 64
FEATURE_LAYERS = 7
CONSTRUCTION_LAYERS = 4
SPATIAL_KERNEL = 7


def receptive_radius(stage: str = "output") -> int:
    """How many pixels of context one output pixel sees on each side, ignoring the global
    channel attention: FEB7 features ("features") or the fused image ("output")."""
    features = FEATURE_LAYERS  # seven 3x3 convolutions
    if stage == "features":
        return features
    return features + SPATIAL_KERNEL // 2 + CONSTRUCTION_LAYERS  # 7x7, FFB is 1x1, four 3x3


class Attention(NamedTuple):
    """Attention maps of one forward pass (None where the variant has no such block).

    ``channel``: (N, 2, C) - M^c_1, M^c_2 per channel (sum to 1 over the second axis).
    ``spatial``: (N, 2, H, W) - M^s_1, M^s_2 per pixel (sum to 1 over the second axis).
    """

    channel: torch.Tensor | None
    spatial: torch.Tensor | None


def _conv3x3(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, stride=1, padding=1)


class UFAFuse(nn.Module):
    """UFA-Fuse (see the module docstring); ``variant`` is one of :data:`VARIANTS`."""

    def __init__(self, variant: str = "full") -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"unknown UFA-Fuse variant {variant!r}; choose one of {VARIANTS}")
        self.variant = variant
        self.use_channel_attention = variant in ("full", "no-sa")
        self.use_spatial_attention = variant in ("full", "no-ca")

        layers: list[nn.Module] = []
        for i in range(FEATURE_LAYERS):
            layers += [_conv3x3(3 if i == 0 else CHANNELS, CHANNELS), nn.LeakyReLU(LEAKY_SLOPE, inplace=True)]
        self.feature_extraction = nn.Sequential(*layers)
        self.spatial_conv = (
            nn.Conv2d(2, 1, SPATIAL_KERNEL, stride=1, padding=SPATIAL_KERNEL // 2, bias=False)
            if self.use_spatial_attention
            else None
        )
        self.ffb = nn.Conv2d(2 * CHANNELS, CHANNELS, kernel_size=1)
        layers = []
        for _ in range(CONSTRUCTION_LAYERS - 1):
            layers += [_conv3x3(CHANNELS, CHANNELS), nn.LeakyReLU(LEAKY_SLOPE, inplace=True)]
        layers += [_conv3x3(CHANNELS, 3), nn.Sigmoid()]
        self.image_construction = nn.Sequential(*layers)

    def initialize(self, scheme: str = "kaiming", generator: torch.Generator | None = None) -> "UFAFuse":
        """Re-initialise the weights: ``"kaiming"`` - He normal (fan-in, gain for LeakyReLU
        0.01) for every convolution, zero biases, which keeps the signal's variance through the
        12 stacked convolutions; ``"default"`` - leave PyTorch's initialisation (uniform,
        about 1/sqrt(3) of that scale per layer, so a 7-layer stack shrinks the signal ~0.002x
        and the biases dominate the first features). The paper does not state its scheme."""
        if scheme == "default":
            return self
        if scheme != "kaiming":
            raise ValueError(f"unknown initialisation {scheme!r}; use 'kaiming' or 'default'")
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                fan_in = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
                std = nn.init.calculate_gain("leaky_relu", LEAKY_SLOPE) / fan_in**0.5
                with torch.no_grad():
                    module.weight.normal_(0.0, std, generator=generator)
                    if module.bias is not None:
                        module.bias.zero_()
        return self

    def features(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """FEB1..7 on both inputs in one batch (shared weights): F_1, F_2, each (N, 64, H, W)."""
        n = a.shape[0]
        f = self.feature_extraction(torch.cat([a, b], dim=0))
        return f[:n], f[n:]

    def fuse_features(
        self,
        f1: torch.Tensor,
        f2: torch.Tensor,
        channel_means: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, Attention]:
        """UFA module + FFB: (N, 64, H, W) fused features and the attention maps.

        ``channel_means``: the global average pools A_1, A_2, each (N, 64), when they were
        computed over a larger image than ``f1``/``f2`` (tiled inference).
        """
        channel_map = spatial_map = None
        if self.use_channel_attention:
            if channel_means is None:
                a1, a2 = f1.mean(dim=(2, 3)), f2.mean(dim=(2, 3))
            else:
                a1, a2 = channel_means
            channel_map = torch.softmax(torch.stack([a1, a2], dim=1), dim=1)  # (N, 2, C)
            f1 = f1 * channel_map[:, 0, :, None, None]
            f2 = f2 * channel_map[:, 1, :, None, None]
        if self.spatial_conv is not None:
            n = f1.shape[0]
            both = torch.cat([f1, f2], dim=0)
            pooled = torch.cat([both.mean(dim=1, keepdim=True), both.amax(dim=1, keepdim=True)], dim=1)
            logits = self.spatial_conv(pooled)  # (2N, 1, H, W), one convolution for both k
            spatial_map = torch.softmax(torch.cat([logits[:n], logits[n:]], dim=1), dim=1)  # (N, 2, H, W)
            f1 = f1 * spatial_map[:, 0:1]
            f2 = f2 * spatial_map[:, 1:2]
        fused = self.ffb(torch.cat([f1, f2], dim=1))
        return fused, Attention(channel_map, spatial_map)

    def forward(
        self,
        a: torch.Tensor,
        b: torch.Tensor,
        return_attention: bool = False,
        channel_means: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Attention]:
        """Fuse ``a`` and ``b`` (N, 3, H, W) in [0, 1] -> (N, 3, H, W) in (0, 1); with
        ``return_attention=True`` also the :class:`Attention` maps."""
        f1, f2 = self.features(a, b)
        fused, attention = self.fuse_features(f1, f2, channel_means)
        out = self.image_construction(fused)
        return (out, attention) if return_attention else out
