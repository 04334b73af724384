"""Weight initialisation shared by fusionbench's networks."""

from __future__ import annotations

from torch import nn

__all__ = ["he_normal_"]


def he_normal_(model: nn.Module, mode: str = "fan_in", generator=None) -> nn.Module:
    """He et al. (ICCV 2015) normal initialisation of every convolution of ``model`` for ReLU
    networks (std sqrt(2 / fan), ``mode`` "fan_in" or "fan_out"), biases zero; returns ``model``.
    It keeps the signal's scale through stacked ReLU convolutions (PyTorch's default shrinks
    it by about sqrt(3) per layer)."""
    import torch

    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            fan = k * (module.in_channels // module.groups if mode == "fan_in" else module.out_channels)
            with torch.no_grad():
                module.weight.normal_(0.0, (2.0 / fan) ** 0.5, generator=generator)
                if module.bias is not None:
                    module.bias.zero_()
    return model
