"""DeepFuse (K. R. Prabhakar, V. S. Srikar and R. V. Babu, "DeepFuse: A Deep Unsupervised Approach
for Exposure Fusion with Extreme Exposure Image Pairs", ICCV 2017, pp. 4714-4722), Sec. 3.

Network on the luminance channel Y ((N, 1, H, W) in [0, 1]), Fig. 2 of the paper:

* pre-fusion layers, one set of weights for both inputs (tied): C1 5x5 1->16, C2 7x7 16->32;
* fusion layer: the two C2 feature maps are added;
* reconstruction: C3 7x7 32->32, C4 5x5 32->16, C5 5x5 16->1.

ReLU after C1..C4, C5 linear (the output is clipped to [0, 1]); stride 1, reflection padding
(the paper states neither; reflection avoids dark borders).

Trained without ground truth, with the MEF-SSIM index (Ma, Zeng and Wang, "Perceptual quality
assessment for multi-exposure image fusion", IEEE TIP 24(11), 2015) of the output against the
two inputs as the loss (:func:`mef_ssim`; single scale, structure and contrast only, as the
paper uses it). That index ignores the mean intensity, so it leaves the output's brightness
undetermined (adding a constant does not change it, and the output drifted far below zero
until the network died when trained on it alone); the loss here adds the mean squared
difference between the output's local mean and the sources' average local mean
(:func:`deepfuse_loss`, weight ``luminance_weight``), a deviation from the paper stated in
``reports/training/deepfuse.md``.

Colour (paper Sec. 3.3): Y is fused by the network; Cb and Cr by
``(C_1 |C_1 - 128| + C_2 |C_2 - 128|) / (|C_1 - 128| + |C_2 - 128|)``, which is exactly
fusionbench's colour policy for gray methods (:mod:`fusionbench.registry`), so the method
uses that policy.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["DeepFuse", "mef_ssim", "deepfuse_loss", "RECEPTIVE_RADIUS", "MEF_WINDOW", "MEF_SIGMA"]

# Kernel sizes of C1..C5; the receptive radius is the sum of their half-sizes.
KERNELS = (5, 7, 7, 5, 5)
RECEPTIVE_RADIUS = sum(k // 2 for k in KERNELS)
MEF_WINDOW = 11
MEF_SIGMA = 1.5
MEF_K = 0.03  # C = (K * dynamic range)^2, on [0, 1] data
CONTRAST_EPS = 0.001 / 255  # Ma et al. add 0.001 (on 0..255 data) to each patch's strength


def _conv(cin: int, cout: int, k: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=k, padding=k // 2, padding_mode="reflect")


class DeepFuse(nn.Module):
    """The DeepFuse network (see the module docstring): ``forward(a, b)`` -> fused Y, not clipped."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = _conv(1, 16, KERNELS[0])
        self.c2 = _conv(16, 32, KERNELS[1])
        self.c3 = _conv(32, 32, KERNELS[2])
        self.c4 = _conv(32, 16, KERNELS[3])
        self.c5 = _conv(16, 1, KERNELS[4])

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pre-fusion layers C1, C2: (N, 1, H, W) -> (N, 32, H, W)."""
        return F.relu_(self.c2(F.relu_(self.c1(x))))

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        n = a.shape[0]
        features = self.features(torch.cat([a, b], dim=0))  # tied weights: one pass for both
        fused = features[:n] + features[n:]
        return self.c5(F.relu_(self.c4(F.relu_(self.c3(fused)))))


def _separable_valid(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Filter each channel of (N, C, H, W) with the outer product of a 1-D kernel, 'valid' positions."""
    c = x.shape[1]
    k = kernel.to(x.dtype).to(x.device)
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def _gaussian(size: int, sigma: float) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _reference_coefficients(a: torch.Tensor, b: torch.Tensor, window: int):
    """Per valid position, the coefficients (beta_1, beta_2) with which MEF-SSIM's desired patch
    is ``beta_1 (x_1 - mu_1) + beta_2 (x_2 - mu_2)`` (Ma et al. 2015, Eqs. 3-10, as in their
    reference code): each source patch's strength ``c_k = ||x_k - mu_k|| (+ 0.001/255)`` and
    structure ``s_k = (x_k - mu_k) / c_k`` over a ``window`` x ``window`` square; the desired
    structure is the average of the ``s_k`` weighted by ``c_k ** p``, with ``p = tan(pi R / 2)``
    (at most 10) from the structural consistency ``R = ||sum_k (x_k - mu_k)|| / sum_k ||x_k - mu_k||``,
    rescaled to the largest strength. Computed in float64 from local moments (the patches
    never materialised); no gradient (it depends on the inputs only)."""
    x = torch.cat([a, b], dim=1).double()
    box = torch.full((window,), 1.0 / window, dtype=torch.float64)
    mean = _separable_valid(x, box)
    var = (_separable_valid(x * x, box) - mean * mean).clamp_min(0)
    cov = _separable_valid(x[:, :1] * x[:, 1:], box) - mean[:, :1] * mean[:, 1:]
    var_1, var_2 = var[:, :1], var[:, 1:]
    area = float(window * window)
    norm_1, norm_2 = (area * var_1).sqrt(), (area * var_2).sqrt()
    strength_1, strength_2 = norm_1 + CONTRAST_EPS, norm_2 + CONTRAST_EPS
    eps = torch.finfo(torch.float64).eps
    sum_norm = (area * (var_1 + var_2 + 2 * cov)).clamp_min(0).sqrt()
    consistency = ((sum_norm + eps) / (norm_1 + norm_2 + eps)).clamp(eps, 1 - eps)
    p = torch.tan(math.pi / 2 * consistency).clamp_max(10.0)
    # w_k = c_k^p / (c_1^p + c_2^p), computed as a logistic for range safety.
    weight_1 = torch.sigmoid(p * (strength_1.log() - strength_2.log()))
    alpha_1, alpha_2 = weight_1 / strength_1, (1 - weight_1) / strength_2
    norm_sq = area * (alpha_1**2 * var_1 + alpha_2**2 * var_2 + 2 * alpha_1 * alpha_2 * cov)
    norm = norm_sq.clamp_min(0).sqrt()
    scale = torch.where(norm > 0, torch.maximum(strength_1, strength_2) / norm.clamp_min(eps), torch.zeros_like(norm))
    return alpha_1 * scale, alpha_2 * scale


def mef_ssim(a: torch.Tensor, b: torch.Tensor, fused: torch.Tensor, *, luminance: bool = False,
             window: int = MEF_WINDOW, sigma: float = MEF_SIGMA) -> tuple[torch.Tensor, torch.Tensor]:
    """Single-scale MEF-SSIM of ``fused`` against the sources ``a``, ``b`` (all (N, 1, H, W) in
    [0, 1]) and the mean squared difference between the local mean of ``fused`` and the
    average of the sources' local means; returns ``(mef_ssim, luminance_mse)``, scalars
    averaged over the valid positions.

    MEF-SSIM (Ma et al. 2015) at each position: the desired patch of
    :func:`_reference_coefficients`, compared with the fused patch by SSIM's contrast-structure
    term ``(2 sigma_rf + C) / (sigma_r^2 + sigma_f^2 + C)``, ``C = (0.03)^2``, statistics
    weighted by an 11x11 Gaussian window (sigma 1.5). ``luminance=False`` skips the second
    value (returned as NaN). Differentiable in ``fused``.
    """
    with torch.no_grad():
        beta_1, beta_2 = _reference_coefficients(a, b, window)
        g = _gaussian(window, sigma)
        x = torch.cat([a, b], dim=1).double()
        mean_x = _separable_valid(x, g)
        second = _separable_valid(torch.cat([x * x, x[:, :1] * x[:, 1:]], dim=1), g)
        var_1 = second[:, :1] - mean_x[:, :1] ** 2
        var_2 = second[:, 1:2] - mean_x[:, 1:] ** 2
        cov_12 = second[:, 2:] - mean_x[:, :1] * mean_x[:, 1:]
        var_ref = (beta_1**2 * var_1 + beta_2**2 * var_2 + 2 * beta_1 * beta_2 * cov_12).clamp_min(0)
        dtype = fused.dtype
        beta_1, beta_2, var_ref, mean_x = (t.to(dtype) for t in (beta_1, beta_2, var_ref, mean_x))
    g = g.to(fused.dtype)
    mean_f = _separable_valid(fused, g)
    var_f = _separable_valid(fused * fused, g) - mean_f**2
    cross = _separable_valid(torch.cat([a, b], dim=1).to(fused.dtype) * fused, g) - mean_x * mean_f
    cov_rf = beta_1 * cross[:, :1] + beta_2 * cross[:, 1:]
    c = MEF_K**2
    score = ((2 * cov_rf + c) / (var_ref + var_f + c)).mean()
    if not luminance:
        return score, torch.full_like(score, float("nan"))
    target = mean_x.mean(dim=1, keepdim=True)
    return score, ((mean_f - target) ** 2).mean()


def deepfuse_loss(a: torch.Tensor, b: torch.Tensor, fused: torch.Tensor, luminance_weight: float = 1.0):
    """``(loss, mef_ssim, luminance_mse)``: ``loss = (1 - MEF-SSIM) + luminance_weight * luminance_mse``."""
    score, lum = mef_ssim(a, b, fused.float(), luminance=luminance_weight > 0)
    loss = 1 - score
    if luminance_weight > 0:
        loss = loss + luminance_weight * lum
    return loss, score, lum


# --- training (fusionbench train deepfuse) --------------------------------------------------

from dataclasses import dataclass  # noqa: E402  (training declarations below the network)

from .data import SourcePairDataset, resolve_source  # noqa: E402
from .init import he_normal_  # noqa: E402
from .network import Curve, Network, TrainConfig, float32, option  # noqa: E402


@dataclass
class DeepFuseConfig(TrainConfig):
    """:class:`~fusionbench.nets.network.TrainConfig` plus the kinds of source pairs and the
    weight of the luminance term. The paper trains on 64x64 patches, Adam lr 1e-4."""

    pairs: str = option("exposure,multi-focus", "kinds of source pairs, comma-separated, used in turn "
                        "(exposure: under/over-exposed; multi-focus: synthetic focus pairs)")
    luminance_weight: float = option(1.0, "weight of the local-mean MSE added to 1 - MEF-SSIM (0: the paper's loss)")
    crop: str = option("64", "crop size, or schedule SIZE[@STEP],... (paper: 64)")
    val_crop: int = option(128, "size of the validation samples")

    def __post_init__(self) -> None:
        super().__post_init__()
        kinds = self.pair_kinds()
        if not kinds or any(k not in SourcePairDataset.KINDS for k in kinds):
            raise ValueError(f"--pairs {self.pairs!r}: choose from {', '.join(SourcePairDataset.KINDS)}")
        if self.luminance_weight < 0:
            raise ValueError(f"luminance_weight must be >= 0, got {self.luminance_weight}")

    def pair_kinds(self) -> list[str]:
        return [k.strip() for k in self.pairs.split(",") if k.strip()]


class _Interleaved:
    """Sample ``i`` from dataset ``i % len(datasets)`` (each depends only on (seed, i))."""

    def __init__(self, datasets: list) -> None:
        self.datasets = datasets

    def __len__(self) -> int:
        return min(len(d) for d in self.datasets)

    def __getitem__(self, index: int) -> dict:
        return self.datasets[index % len(self.datasets)][index]


class DeepFuseNetwork(Network):
    name = "deepfuse"
    config_class = DeepFuseConfig
    summary = "DeepFuse (Prabhakar et al., ICCV 2017): unsupervised, MEF-SSIM loss on gray source pairs"
    curves = (
        Curve("loss", "training loss  (1−MEF-SSIM) + w·MSE(local means)"),
        Curve("mef_ssim", "training 1 − MEF-SSIM", transform=lambda s: 1.0 - s),
        Curve("val_mef_ssim", "validation MEF-SSIM", log=False),
    )

    def build(self, config: DeepFuseConfig):
        return he_normal_(DeepFuse())

    def dataset(self, config: DeepFuseConfig, role: str, crop: int, seed: int):
        source = resolve_source(config.data, role, config.data_dir)
        return _Interleaved([SourcePairDataset(source, crop=crop, seed=seed, channels=1, kind=kind)
                             for kind in config.pair_kinds()])

    def loss(self, model, batch: dict, config: DeepFuseConfig) -> dict:
        fused = model(batch["a"], batch["b"])
        with float32(fused):
            loss, score, lum = deepfuse_loss(batch["a"].float(), batch["b"].float(), fused, config.luminance_weight)
        terms = {"loss": loss, "mef_ssim": score}
        if config.luminance_weight > 0:
            terms["luminance_mse"] = lum
        return terms

    def validate(self, model, batch: dict, config: DeepFuseConfig) -> dict[str, float]:
        fused = model(batch["a"], batch["b"]).float().clamp(0, 1)
        loss, score, lum = deepfuse_loss(batch["a"].float(), batch["b"].float(), fused, config.luminance_weight)
        return {"val_mef_ssim": float(score), "val_loss": float(loss)}
