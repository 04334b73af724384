"""MFF-GAN (H. Zhang, Z. Le, Z. Shao, H. Xu, J. Ma, "MFF-GAN: An unsupervised generative
adversarial network with adaptive and gradient joint constraints for multi-focus image
fusion", Information Fusion 66: 40-53, 2021): generator, discriminator and the adaptive
decision block of the loss.

Images are luminance (Y) scaled to [-1, 1] (``(Y - 127.5) / 127.5`` on 8-bit values), one
channel; the generator's tanh output is the fused Y on the same scale.

Generator (the layers of the authors' ``model.py``; LeakyReLU of slope 0.2 after every conv
but the last, "same" zero padding): two branches with their own weights, one per source.
Each branch: 5x5 conv 1->16, 3x3 conv 16->16; information exchange: both branches' second
features concatenated (32) and mapped by a 1x1 conv to 16 per branch; 3x3 conv on the dense
concatenation (48 -> 16); exchange again (1x1, 32 -> 16 per branch); 3x3 conv on the dense
concatenation (64 -> 16). The four main features of both branches (128 channels) go through a
1x1 conv to one channel and tanh.

Adaptive decision block (:func:`decision_scores`): per pixel, the source whose difference
from its twice 3x3-Gaussian-blurred self is larger is taken as the focused one (ties go to
the first source); it weights the content loss (intensity and Laplacian-gradient terms).

Discriminator (:class:`MFFDiscriminator`): it sees gradient maps, the element-wise maximum of
the sources' |Laplacian| (real) against the fused image's (fake): four 3x3 convs of stride 2
without padding (1->32->64->128->256; batch normalisation after all but the first; LeakyReLU
0.2) and a linear layer to one score, least-squares GAN with soft labels.

Training (``fusionbench train mffgan``, :class:`MFFGANNetwork`): no ground truth; pairs of
differently focused 60x60 crops (:class:`~fusionbench.nets.data.SourcePairDataset`, gray,
mapped to BT.601 luma ``Y = (16 + 219 gray) / 255``); each step one discriminator update, then
one generator update (the authors: two discriminator updates per generator update).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .data import SourcePairDataset, resolve_source
from .network import Curve, Network, TrainConfig, float32, option

__all__ = ["MFFGenerator", "MFFDiscriminator", "laplacian", "decision_scores", "PATCH", "generator_loss",
           "discriminator_loss", "MFFGANConfig", "MFFGANNetwork"]

PATCH = 60  # the authors' training patch size (the discriminator's linear layer fits it)
SLOPE = 0.2


def _conv(in_channels: int, out_channels: int, kernel: int) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel, padding=kernel // 2)


class _Branch(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = _conv(1, 16, 5)
        self.conv2 = _conv(16, 16, 3)
        self.exchange2 = _conv(32, 16, 1)
        self.conv3 = _conv(48, 16, 3)
        self.exchange3 = _conv(32, 16, 1)
        self.conv4 = _conv(64, 16, 3)


class MFFGenerator(nn.Module):
    """``forward(near, far)``: (N, 1, H, W) in [-1, 1] each -> fused (N, 1, H, W) in (-1, 1)."""

    def __init__(self) -> None:
        super().__init__()
        self.near = _Branch()
        self.far = _Branch()
        self.out = _conv(128, 1, 1)

    def forward(self, near: torch.Tensor, far: torch.Tensor) -> torch.Tensor:
        act = lambda x: F.leaky_relu(x, SLOPE)  # noqa: E731
        n, f = self.near, self.far
        n1, f1 = act(n.conv1(near)), act(f.conv1(far))
        n2, f2 = act(n.conv2(n1)), act(f.conv2(f1))
        both = torch.cat((n2, f2), 1)
        n23, f23 = act(n.exchange2(both)), act(f.exchange2(both))
        n3, f3 = act(n.conv3(torch.cat((n1, n2, n23), 1))), act(f.conv3(torch.cat((f1, f2, f23), 1)))
        both = torch.cat((n3, f3), 1)
        n34, f34 = act(n.exchange3(both)), act(f.exchange3(both))
        n4 = act(n.conv4(torch.cat((n1, n2, n3, n34), 1)))
        f4 = act(f.conv4(torch.cat((f1, f2, f3, f34), 1)))
        return torch.tanh(self.out(torch.cat((n1, f1, n2, f2, n3, f3, n4, f4), 1)))

    def initialize(self, init: str = "kaiming") -> "MFFGenerator":
        """``"authors"``: truncated-normal weights (std 1e-3) and zero biases, as the authors'
        TensorFlow code; ``"kaiming"``: He-normal weights for LeakyReLU(0.2), zero biases. With
        the authors' tiny weights every activation starts near zero and, on our CPU budget of a
        few hundred steps, the generator did not move (``reports/training/mffgan.md``)."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if init == "authors":
                    nn.init.trunc_normal_(m.weight, std=1e-3, a=-2e-3, b=2e-3)
                elif init == "kaiming":
                    nn.init.kaiming_normal_(m.weight, a=SLOPE, nonlinearity="leaky_relu")
                else:
                    raise ValueError(f"unknown initialisation {init!r}; use 'kaiming' or 'authors'")
                nn.init.zeros_(m.bias)
        return self


class MFFDiscriminator(nn.Module):
    """Gradient-map critic for PATCH x PATCH inputs: (N, 1, 60, 60) -> (N, 1) scores."""

    def __init__(self, patch: int = PATCH) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = (1, 32, 64, 128, 256)
        size = patch
        for k, (cin, cout) in enumerate(zip(channels, channels[1:])):
            layers.append(nn.Conv2d(cin, cout, 3, stride=2))
            if k:
                layers.append(nn.BatchNorm2d(cout, momentum=0.1, eps=1e-5))
            layers.append(nn.LeakyReLU(SLOPE))
            size = (size - 3) // 2 + 1
        self.features = nn.Sequential(*layers)
        self.score = nn.Linear(256 * size * size, 1)

    def forward(self, gradient_map: torch.Tensor) -> torch.Tensor:
        return self.score(self.features(gradient_map).flatten(1))


def laplacian(image: torch.Tensor) -> torch.Tensor:
    """4-neighbour Laplacian of (N, 1, H, W) images, zero padding (the authors' ``gradient``)."""
    kernel = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]], dtype=image.dtype, device=image.device)
    return F.conv2d(image, kernel[None, None], padding=1)


_BLUR = ((0.0947, 0.1183, 0.0947), (0.1183, 0.1478, 0.1183), (0.0947, 0.1183, 0.0947))


def decision_scores(near: torch.Tensor, far: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The adaptive decision block: (near_score, far_score), 0/1 maps that sum to one; far
    scores 1 where ``|far - blur(blur(far))| > |near - blur(blur(near))|`` (3x3 Gaussian of
    the authors' code, zero padding)."""
    kernel = torch.tensor(_BLUR, dtype=near.dtype, device=near.device)[None, None]

    def detail(x: torch.Tensor) -> torch.Tensor:
        return (x - F.conv2d(F.conv2d(x, kernel, padding=1), kernel, padding=1)).abs()

    far_score = (detail(far) > detail(near)).to(near.dtype)
    return 1 - far_score, far_score


def generator_loss(fused, near, far, fake_score, real_label) -> dict[str, torch.Tensor]:
    """``L_G = L_adv + 10 (5 L_grad + L_int)`` (authors' weights): ``L_adv`` least squares
    against ``real_label`` (soft labels drawn in [0.7, 1.2]); ``L_int``, ``L_grad``: squared
    differences of the image and of its Laplacian to the source the decision block picks."""
    near_score, far_score = decision_scores(near, far)
    grad_fused = laplacian(fused)
    intensity = (far_score * (fused - far) ** 2).mean() + (near_score * (fused - near) ** 2).mean()
    gradient = (far_score * (grad_fused - laplacian(far)) ** 2).mean() + (near_score * (grad_fused - laplacian(near)) ** 2).mean()
    adversarial = ((fake_score - real_label) ** 2).mean()
    return {"loss": adversarial + 10 * (5 * gradient + intensity), "adversarial": adversarial,
            "intensity": intensity, "gradient": gradient}


def discriminator_loss(real_score, fake_score, real_label, fake_label) -> dict[str, torch.Tensor]:
    """Least squares: real gradient maps towards labels in [0.7, 1.2], fused ones towards [0, 0.3]."""
    real = ((real_score - real_label) ** 2).mean()
    fake = ((fake_score - fake_label) ** 2).mean()
    return {"loss": real + fake, "real": real, "fake": fake}


def to_network_scale(gray: torch.Tensor) -> torch.Tensor:
    """Gray in [0, 1] (rgb2gray weights) -> BT.601 luma Y on 0..255 -> ``(Y - 127.5) / 127.5``."""
    return ((16 + 219 * gray) - 127.5) / 127.5


def _soft_labels(like: torch.Tensor, low: float, high: float) -> torch.Tensor:
    return torch.empty_like(like).uniform_(low, high)


@dataclass
class MFFGANConfig(TrainConfig):
    """:class:`~fusionbench.nets.network.TrainConfig` with the authors' settings: 60x60 crops,
    batches of 32, Adam at 1e-4 for both networks; batches are not split into micro-batches."""

    crop: str = option(str(PATCH), f"crop size (the discriminator needs {PATCH})")
    init: str = option("kaiming", "generator initialisation ('authors': truncated normal, std 1e-3)",
                       choices=("kaiming", "authors"))
    batch: int = option(32, "pairs per step")
    val_crop: int = option(PATCH, "validation crop size")
    micro_batch_pixels: int = option(1 << 22, "process a batch in chunks of this many pixels")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.crop != str(PATCH) or self.val_crop != PATCH:
            raise ValueError(f"mffgan trains on {PATCH}x{PATCH} crops (crop and val_crop {PATCH}), got {self.crop!r}, {self.val_crop}")


class MFFGANNetwork(Network):
    """``fusionbench train mffgan``: adversarial training with the adaptive decision block."""

    name = "mffgan"
    config_class = MFFGANConfig
    summary = "MFF-GAN (Zhang et al., Information Fusion 2021): unsupervised GAN on multi-focus source pairs"
    curves = (
        Curve("loss", "generator loss"),
        Curve("adversarial", "generator adversarial term"),
        Curve("intensity", "generator intensity term"),
        Curve("gradient", "generator gradient term"),
        Curve("adv_loss", "discriminator loss"),
        Curve("val_content_rmse", "validation: RMSE (8-bit levels) to the source the decision block picks", log=False),
    )

    def build(self, config: MFFGANConfig) -> MFFGenerator:
        return MFFGenerator().initialize(config.init)

    def build_adversary(self, config: MFFGANConfig) -> MFFDiscriminator:
        return MFFDiscriminator()

    def dataset(self, config: MFFGANConfig, role: str, crop: int, seed: int):
        return SourcePairDataset(resolve_source(config.data, role, config.data_dir), crop=crop, seed=seed, channels=1)

    @staticmethod
    def _inputs(batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        return to_network_scale(batch["a"]), to_network_scale(batch["b"])

    def adversary_loss(self, model, adversary, batch: dict, config: MFFGANConfig) -> dict:
        near, far = self._inputs(batch)
        with torch.no_grad():
            fused = model(near, far)
        real = adversary(torch.maximum(laplacian(near).abs(), laplacian(far).abs()))
        fake = adversary(laplacian(fused).abs())
        with float32(real):
            return discriminator_loss(real.float(), fake.float(), _soft_labels(real, 0.7, 1.2), _soft_labels(fake, 0.0, 0.3))

    def loss(self, model, batch: dict, config: MFFGANConfig, adversary=None) -> dict:
        near, far = self._inputs(batch)
        fused = model(near, far)
        fake = adversary(laplacian(fused).abs())
        with float32(fused):
            return generator_loss(fused.float(), near, far, fake.float(), _soft_labels(fake, 0.7, 1.2))

    def validate(self, model, batch: dict, config: MFFGANConfig) -> dict[str, float]:
        near, far = self._inputs(batch)
        fused = model(near, far).float()
        near_score, far_score = decision_scores(near, far)
        target = near_score * near + far_score * far  # the source the decision block picks, per pixel
        return {"val_content_rmse": float(((fused - target) ** 2).mean().sqrt()) * 127.5}
