"""IFCNN (Y. Zhang, Y. Liu, P. Sun, H. Yan, X. Zhao and L. Zhang, "IFCNN: A general image fusion
framework based on convolutional neural network", Information Fusion 54:99-118, 2020), Sec. 3.

Network on RGB images ((N, 3, H, W), normalised by the ImageNet mean and standard deviation
as the authors do for colour images), Fig. 1 of the paper and the authors' code:

* feature extraction, one set of weights for both inputs: CONV1 7x7 3->64 (no bias, no
  activation; the authors copy and freeze the first layer of an ImageNet ResNet-101), CONV2
  3x3 64->64 (no bias) + batch normalisation + ReLU;
* fusion: element-wise ``"max"``, ``"sum"`` or ``"mean"`` of the two CONV2 feature maps;
* reconstruction: CONV3 3x3 64->64 (no bias) + batch normalisation + ReLU, CONV4 1x1 64->3
  (with bias), whose output is de-normalised and clipped to [0, 1].

Stride 1 and replicate padding everywhere (the authors' code). No pretrained ResNet can be
loaded here, so CONV1 is trained from scratch with the rest (He initialisation, fan-out, as
the authors initialise their other layers). The model is trained supervised on synthetic
multi-focus pairs with ground truth. The authors' loss is the pixel MSE plus a perceptual
term on ResNet-101 features, which are not available either; ``ssim_weight`` adds
``(1 - SSIM)`` as a structural term in its place (see ``reports/training/ifcnn.md``).

For two inputs, ``"mean"`` is ``"sum"`` with the fused features halved: CONV3 is linear
and has no bias, so a SUM network is the same function as a MEAN network with CONV3's
weights doubled, and either serves both rules.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["IFCNN", "RULES", "IMAGENET_MEAN", "IMAGENET_STD", "RECEPTIVE_RADIUS"]

RULES = ("max", "sum", "mean")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
RECEPTIVE_RADIUS = 3 + 1 + 1  # 7x7, 3x3, 3x3 (CONV4 is 1x1)


class _BatchNorm(nn.BatchNorm2d):
    """Batch normalisation without the integer batch counter: it is unused with a fixed
    momentum, and leaving it out keeps the state all float tensors (the weights format)."""

    def __init__(self, channels: int) -> None:
        super().__init__(channels)
        self.register_buffer("num_batches_tracked", None)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args, **kwargs):
        # A state without metadata (from a safetensors file) would be taken for the old layout
        # that lacked the counter, and the counter added back; say it is the current layout.
        super()._load_from_state_dict(state_dict, prefix, {**local_metadata, "version": self._version}, *args, **kwargs)


class _ConvBlock(nn.Sequential):
    """3x3 convolution without bias (replicate padding), batch normalisation, ReLU."""

    def __init__(self, channels: int) -> None:
        super().__init__(
            nn.Conv2d(channels, channels, kernel_size=3, padding=1, padding_mode="replicate", bias=False),
            _BatchNorm(channels),
            nn.ReLU(inplace=True),
        )


class IFCNN(nn.Module):
    """IFCNN with fusion ``rule`` (:data:`RULES`); see the module docstring."""

    def __init__(self, rule: str = "max") -> None:
        super().__init__()
        if rule not in RULES:
            raise ValueError(f"unknown IFCNN fusion rule {rule!r}; choose one of {RULES}")
        self.rule = rule
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, padding=3, padding_mode="replicate", bias=False)
        self.conv2 = _ConvBlock(64)
        self.conv3 = _ConvBlock(64)
        self.conv4 = nn.Conv2d(64, 3, kernel_size=1)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """CONV1, CONV2 of normalised RGB (N, 3, H, W) in [0, 1] -> (N, 64, H, W)."""
        return self.conv2(self.conv1((x - self.mean) / self.std))

    def fuse_features(self, f1: torch.Tensor, f2: torch.Tensor) -> torch.Tensor:
        if self.rule == "max":
            return torch.maximum(f1, f2)
        if self.rule == "sum":
            return f1 + f2
        return (f1 + f2) / 2

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Fuse RGB (N, 3, H, W) in [0, 1] -> (N, 3, H, W), de-normalised, not clipped."""
        n = a.shape[0]
        features = self.features(torch.cat([a, b], dim=0))
        fused = self.fuse_features(features[:n], features[n:])
        return self.conv4(self.conv3(fused)) * self.std + self.mean


# --- training (fusionbench train ifcnn) -----------------------------------------------------

from dataclasses import dataclass  # noqa: E402  (training declarations below the network)

from .data import MultiFocusDataset, resolve_source  # noqa: E402
from .init import he_normal_  # noqa: E402
from .losses import psnr, ssim  # noqa: E402
from .network import Curve, Network, TrainConfig, float32, option  # noqa: E402


@dataclass
class IFCNNConfig(TrainConfig):
    """:class:`~fusionbench.nets.network.TrainConfig` plus the fusion rule. Batch normalisation
    needs the whole batch at once, so ``micro_batch_pixels`` defaults to no chunking."""

    rule: str = option("max", "element-wise fusion rule the network is trained with", choices=RULES)
    ssim_weight: float = option(0.0, "weight of (1 - SSIM) added to the MSE (a structural term in place of "
                                "the authors' perceptual term)")
    gradient_weight: float = option(0.0, "weight of the L1 difference of horizontal and vertical pixel differences "
                                    "(fused vs ground truth) added to the loss (a sharpness term)")
    init_weights: str | None = option(None, "start from these IFCNN weights (a previous stage, trained with "
                                      "the same rule) instead of random ones")
    micro_batch_pixels: int = option(1 << 30, "process a batch in chunks of this many pixels "
                                     "(chunks change batch normalisation's statistics)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.rule not in RULES:
            raise ValueError(f"unknown IFCNN fusion rule {self.rule!r}; choose one of {RULES}")
        for name in ("ssim_weight", "gradient_weight"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


def gradient_l1(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of the horizontal and of the vertical neighbour differences of
    ``x`` and ``y`` (N, C, H, W): zero exactly when ``x - y`` is constant per channel."""
    horizontal = (x[..., :, 1:] - x[..., :, :-1]) - (y[..., :, 1:] - y[..., :, :-1])
    vertical = (x[..., 1:, :] - x[..., :-1, :]) - (y[..., 1:, :] - y[..., :-1, :])
    return horizontal.abs().mean() + vertical.abs().mean()


class IFCNNNetwork(Network):
    name = "ifcnn"
    config_class = IFCNNConfig
    summary = ("IFCNN (Zhang et al., Information Fusion 2020): supervised on synthetic multi-focus pairs, "
               "MSE loss, from scratch; --rule max|sum|mean")
    curves = (
        Curve("loss", "training loss  MSE + w(1−SSIM) + g·gradient L1"),
        Curve("mse", "training MSE"),
        Curve("val_psnr", "validation PSNR (dB), held-out pairs", log=False),
        Curve("val_ssim", "validation SSIM, held-out pairs", log=False),
    )

    def build(self, config: IFCNNConfig):
        model = he_normal_(IFCNN(config.rule), mode="fan_out")
        if config.init_weights is not None:
            from .weights import WeightsError, load_state, read_metadata

            trained = read_metadata(config.init_weights).get("rule")
            if trained != config.rule:
                raise WeightsError(f"{config.init_weights}: IFCNN weights trained with rule {trained!r}, "
                                   f"not {config.rule!r}")
            load_state(model, config.init_weights, f"the IFCNN network ({config.rule})")
        return model

    def dataset(self, config: IFCNNConfig, role: str, crop: int, seed: int):
        return MultiFocusDataset(resolve_source(config.data, role, config.data_dir), crop=crop, seed=seed)

    def loss(self, model, batch: dict, config: IFCNNConfig) -> dict:
        fused = model(batch["a"], batch["b"])
        with float32(fused):
            fused, gt = fused.float(), batch["gt"]
            terms = {"mse": ((fused - gt) ** 2).mean()}
            loss = terms["mse"]
            if config.ssim_weight:
                terms["ssim"] = ssim(fused, gt)
                loss = loss + config.ssim_weight * (1 - terms["ssim"])
            if config.gradient_weight:
                terms["gradient"] = gradient_l1(fused, gt)
                loss = loss + config.gradient_weight * terms["gradient"]
            return {"loss": loss, **terms}

    def validate(self, model, batch: dict, config: IFCNNConfig) -> dict[str, float]:
        out = model(batch["a"], batch["b"]).float().clamp(0, 1)
        return {"val_psnr": psnr(out, batch["gt"]), "val_ssim": float(ssim(out, batch["gt"]))}

    def weights_name(self, config: IFCNNConfig) -> str:
        return f"ifcnn-{config.rule}"

    def weights_metadata(self, config: IFCNNConfig) -> dict[str, str]:
        return {"rule": config.rule}

    def run_label(self, config: IFCNNConfig) -> str:
        return f"ifcnn-{config.rule}"
