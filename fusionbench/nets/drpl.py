"""The DRPL network (J. Li, X. Guo, G. Lu, B. Zhang, Y. Xu, F. Wu, D. Zhang, "DRPL: Deep
regression pair learning for multi-focus image fusion", IEEE Trans. Image Process. 29:
4816-4831, 2020): a fully-convolutional regressor from a source pair to the pair's two binary
focus masks.

Layers (those of the authors' released ``net.py``): the two RGB sources concatenated (6
channels); conv 9x9 6->64, then two 3x3 convs 64->64; 12 residual blocks (3x3 conv, BN, ReLU,
3x3 conv, BN, skip, ReLU); two 3x3 convs 64->64; a 3x3 conv 64->2 and a sigmoid. Every
convolution outside the residual blocks is followed by BN, ReLU and swish
(``x * sigmoid(x)``), in that order. Output channel k is the mask of source k (1 where it is in
focus); "pair learning" is that both masks are predicted and supervised together.

Inputs: (N, 3, H, W) float tensors in [0, 1] each (no normalisation, as the authors'
``ToTensor``).

Training (``fusionbench train drpl``, :class:`DRPLNetwork`), the authors' ``train_net.py``
loss on synthetic pairs with their masks (:class:`~fusionbench.nets.data.MultiFocusDataset`):
``0.8 L1(M, masks) + 0.1 (1 - SSIM(F, GT)) + 0.1 L1(g(F), g(GT))`` where
``F = M_a A + M_b B`` and ``g`` is :func:`laplacian_residual`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .data import MultiFocusDataset, resolve_source
from .losses import psnr, ssim
from .network import Curve, Network, TrainConfig, float32, option

__all__ = ["RESIDUAL_BLOCKS", "DRPLNet", "laplacian_residual", "LOSS_WEIGHTS", "DRPLConfig", "DRPLNetwork", "fusion_weights"]

RESIDUAL_BLOCKS = 12
CHANNELS = 64
# The authors' training loss: 0.8 * L1(masks) + 0.1 * (1 - SSIM) + 0.1 * gradient term.
LOSS_WEIGHTS = {"mask": 0.8, "ssim": 0.1, "gradient": 0.1}


class _ConvBNSwish(nn.Sequential):
    def __init__(self, in_channels: int, kernel: int) -> None:
        super().__init__(nn.Conv2d(in_channels, CHANNELS, kernel, padding=kernel // 2), nn.BatchNorm2d(CHANNELS), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.silu(super().forward(x))  # silu(x) = x * sigmoid(x): swish


class ResidualBlock(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(CHANNELS, CHANNELS, 3, padding=1), nn.BatchNorm2d(CHANNELS), nn.ReLU(),
            nn.Conv2d(CHANNELS, CHANNELS, 3, padding=1), nn.BatchNorm2d(CHANNELS),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.body(x) + x)


class DRPLNet(nn.Module):
    """``forward(a, b)``: two (N, 3, H, W) sources -> (N, 2, H, W) focus masks in (0, 1)."""

    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Sequential(_ConvBNSwish(6, 9), _ConvBNSwish(CHANNELS, 3), _ConvBNSwish(CHANNELS, 3))
        self.blocks = nn.Sequential(*(ResidualBlock() for _ in range(RESIDUAL_BLOCKS)))
        self.tail = nn.Sequential(_ConvBNSwish(CHANNELS, 3), _ConvBNSwish(CHANNELS, 3))
        self.out = nn.Conv2d(CHANNELS, 2, 3, padding=1)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        x = self.head(torch.cat((a, b), 1))
        return torch.sigmoid(self.out(self.tail(self.blocks(x))))

    def initialize(self) -> "DRPLNet":
        """Xavier-normal convolutions, zero biases, unit BN (the authors' ``initialize_weights``)."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        return self


def laplacian_residual(image: torch.Tensor) -> torch.Tensor:
    """The authors' "gradient" map: ``image - L``, where ``L`` is the 4-neighbour Laplacian
    summed over the channels (zero padding), subtracted from every channel."""
    kernel = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]], dtype=image.dtype, device=image.device)
    kernel = kernel.expand(1, image.shape[1], 3, 3)
    return image - F.conv2d(image, kernel, padding=1)


def fusion_weights(masks: torch.Tensor) -> torch.Tensor:
    """The authors' fusion weight of the first source, ``(M_a + 1 - M_b) / 2``: (N, 1, H, W)."""
    return (masks[:, :1] + 1 - masks[:, 1:]) / 2


@dataclass
class DRPLConfig(TrainConfig):
    """:class:`~fusionbench.nets.network.TrainConfig` with DRPL's defaults; batches are not split
    into micro-batches (batch normalisation sees the whole batch)."""

    crop: str = option("64", "crop size, or schedule SIZE[@STEP],...")
    lr: float = option(1e-3, "initial Adam learning rate")
    micro_batch_pixels: int = option(1 << 22, "process a batch in chunks of this many pixels")
    cpu_precision: str = option("float32", "precision of the network on CPU: bf16 autocast is about 3x faster where the "
                                "CPU has AMX or AVX-512 BF16 (the loss stays float32; CUDA always uses bf16)",
                                choices=("float32", "bf16"))


class DRPLNetwork(Network):
    """``fusionbench train drpl``: the pair's two masks regressed on synthetic multi-focus pairs."""

    name = "drpl"
    config_class = DRPLConfig
    summary = "DRPL (Li et al., IEEE TIP 2020) on synthetic multi-focus pairs with their masks"
    curves = (
        Curve("loss", "training loss"),
        Curve("mask_l1", "training mask L1"),
        Curve("val_psnr", "validation PSNR of the fused pair (dB)", log=False),
        Curve("val_mask_accuracy", "validation mask accuracy (W > 0.5)", log=False),
    )

    def build(self, config: DRPLConfig) -> DRPLNet:
        return DRPLNet().initialize()

    def dataset(self, config: DRPLConfig, role: str, crop: int, seed: int):
        return MultiFocusDataset(resolve_source(config.data, role, config.data_dir), crop=crop, seed=seed)

    def loss(self, model, batch: dict, config: DRPLConfig) -> dict:
        cpu = batch["a"].device.type == "cpu"
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cpu and config.cpu_precision == "bf16"):
            masks = model(batch["a"], batch["b"])
        with float32(masks):
            masks = masks.float()
            target = torch.cat((batch["mask"], 1 - batch["mask"]), 1)
            mask_l1 = (masks - target).abs().mean()
            merged = masks[:, :1] * batch["a"] + masks[:, 1:] * batch["b"]
            ssim_term = 1 - ssim(merged, batch["gt"])
            gradient = (laplacian_residual(merged) - laplacian_residual(batch["gt"])).abs().mean()
            loss = LOSS_WEIGHTS["mask"] * mask_l1 + LOSS_WEIGHTS["ssim"] * ssim_term + LOSS_WEIGHTS["gradient"] * gradient
        return {"loss": loss, "mask_l1": mask_l1, "ssim_term": ssim_term, "gradient": gradient}

    def validate(self, model, batch: dict, config: DRPLConfig) -> dict[str, float]:
        w = fusion_weights(model(batch["a"], batch["b"]).float())
        fused = w * batch["a"] + (1 - w) * batch["b"]
        accuracy = float(((w > 0.5).float() == batch["mask"]).float().mean())
        return {"val_psnr": psnr(fused, batch["gt"]), "val_mask_accuracy": accuracy}
