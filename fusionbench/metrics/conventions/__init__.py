"""Metric conventions: score images the way a given paper or evaluator did.

The same metric name gives different numbers in different papers because evaluators differ
in how they turn images into arrays (gray by ``rgb2gray`` or OpenCV, one colour channel,
each channel averaged; 0..255 or [0, 1]) and in the definition behind the name (column-wise
or whole-image standard deviation, forward or central differences, pixel VIF labelled VIFF,
SSIM summed over the sources, MI in nats or normalised). A :class:`Convention` states both,
per metric, as one explicit table ``metric -> Rule(input transform, definition)``:

``reference``
    The default: every registered metric as defined in its module, on gray images on
    [0, 255] (MATLAB ``rgb2gray``) - what the golden MATLAB values define.
``ufa-paper``
    Table V of the UFA-Fuse paper (Zang et al., IEEE TIM 2021): AVG, STD, SEN and Qabf on the
    first (R) channel, VIFF and Qm on the gray image scaled to [0, 1].
``cddfuse``
    The Python evaluator that most deep-fusion papers copy,
    ``Zhaozixiang1228/MMIF-CDDFuse utils/Evaluator.py`` with its ``image_read_cv2(.., 'GRAY')``.
``vifb``
    VIFB's MATLAB metrics (Zhang, Ye & Xiao, CVPRW 2020): each colour channel scored
    separately and the results averaged.

Use ``fusionbench.evaluate(a, b, fused, metrics=..., convention="ufa-paper")`` or
``fusionbench evaluate A B F --convention ufa-paper``; ``fusionbench metrics --conventions``
prints every rule. A convention other than ``reference`` defines only the metrics of its
table (asking it for another metric is an error naming the ones it has). Metrics that share
an input transform share their intermediates (one :class:`MetricInputs` per transform).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

import numpy as np

from ...io import read_image_native
from ..inputs import ImageLike, MetricInputs
from ..registry import Metric, get_metric, list_metrics
from . import definitions as d
from .transforms import GRAY, GRAY_UNIT, OPENCV_GRAY, RED, RGB_CHANNELS, RGB_SIDE_BY_SIDE, InputTransform

__all__ = [
    "Rule",
    "Convention",
    "CONVENTIONS",
    "get_convention",
    "list_conventions",
    "InputTransform",
    "describe",
]


@dataclass(frozen=True)
class Rule:
    """How one metric is computed under a convention: the input transform, the definition
    (``None``: the metric's own, registered definition) and a one-line statement of it."""

    transform: InputTransform
    compute: Callable[[MetricInputs], float] | None
    definition: str


@dataclass(frozen=True)
class Convention:
    """A named bundle of :class:`Rule` s. ``rules=None`` (the reference convention) means
    every registered metric with its own definition on gray 0..255 images."""

    name: str
    title: str
    source: str
    rules: Mapping[str, Rule] | None = field(default=None, repr=False)

    def metrics(self) -> list[str]:
        """The metrics this convention defines, in registry order."""
        if self.rules is None:
            return list_metrics()
        return [name for name in list_metrics() if name in self.rules]

    def defines(self, metric: Metric) -> bool:
        return self.rules is None or metric.name in self.rules

    def rule(self, metric: Metric) -> Rule:
        if self.rules is None:
            return Rule(GRAY, None, metric.reference)
        try:
            return self.rules[metric.name]
        except KeyError:
            raise ValueError(
                f"metric {metric.name} is not defined under convention {self.name!r}, which defines "
                f"{', '.join(self.metrics())}; use convention 'reference' for the others"
            ) from None

    def evaluate(self, images: Mapping[str, ImageLike], metrics: Iterable[Metric]) -> dict[str, float]:
        """Each metric's value under this convention: its rule's definition on every plane of
        its input transform, averaged over the planes. Paths are read once; each transform
        is applied once, so metrics sharing it share intermediates."""
        arrays = {
            role: read_image_native(image) if isinstance(image, (str, os.PathLike)) else image
            for role, image in images.items()
            if image is not None
        }
        planes: dict[str, list[MetricInputs]] = {}
        values: dict[str, float] = {}
        for metric in metrics:
            rule = self.rule(metric)
            if rule.transform.name not in planes:
                planes[rule.transform.name] = rule.transform(arrays, "evaluate")
            results = [plane.run(metric, rule.compute) for plane in planes[rule.transform.name]]
            values[metric.name] = float(np.mean(results)) if len(results) > 1 else results[0]
        return values


REFERENCE = Convention(
    "reference",
    "The MATLAB reference code of every metric (the golden values)",
    "MFIF-Metrics (Liu et al., TPAMI 2024) and imageFusionMetrics (Z. Liu) .m files; see each metric's reference",
)

UFA_PAPER = Convention(
    "ufa-paper",
    "Table V of the UFA-Fuse paper",
    "Zang et al., 'UFA-FUSE', IEEE TIM 70 (2021), Table V; inferred from the DRPL row, which it "
    "reproduces on MFIFB's published DPRL images",
    {
        "AVG": Rule(RED, d.avg_forward_valid, "forward differences on the (H-1)x(W-1) grid, mean of sqrt((dx^2+dy^2)/2)"),
        "STD": Rule(RED, d.std_all_pixels, "standard deviation of all pixels, N-1 (std2)"),
        "SEN": Rule(RED, None, "Shannon entropy of the 256-level histogram, bits (EN.m)"),
        "VIFF": Rule(GRAY_UNIT, None, "VIFF_Public.m (Han et al. 2013) on [0, 1] images"),
        "Qabf": Rule(RED, None, "metricXydeas.m (Xydeas & Petrovic 2000)"),
        "Qc": Rule(
            GRAY,
            None,
            "metricChenBlum.m (Chen & Blum 2009); does NOT reproduce the paper's Qc column "
            "(docs/conventions.md)",
        ),
        "Qm": Rule(GRAY_UNIT, None, "metricPWW.m (Wang & Liu 2008) on [0, 1] images"),
    },
)

_CDDFUSE_SOURCE = "github.com/Zhaozixiang1228/MMIF-CDDFuse utils/Evaluator.py (commit 40de058 of 2023-05-04)"
CDDFUSE = Convention(
    "cddfuse",
    "CDDFuse's Python evaluator (copied by most deep-fusion papers)",
    _CDDFUSE_SOURCE + ", images read with image_read_cv2(path, 'GRAY'), scikit-image 0.19 as pinned",
    {
        "AVG": Rule(OPENCV_GRAY, d.cddfuse_ag, "Evaluator.AG: central differences (one-sided at borders), mean over HxW of sqrt((gx^2+gy^2)/2); float32"),
        "STD": Rule(OPENCV_GRAY, d.cddfuse_sd, "Evaluator.SD: np.std of all pixels (population, N); float32"),
        "SEN": Rule(OPENCV_GRAY, None, "Evaluator.EN: Shannon entropy of the 256-level histogram, bits"),
        "SF": Rule(OPENCV_GRAY, d.cddfuse_sf, "Evaluator.SF: sqrt(mean(dx^2) + mean(dy^2)), each over its own differences; float32"),
        "MI": Rule(OPENCV_GRAY, d.mi_nats_sum, "Evaluator.MI: sklearn mutual_info_score(F,A) + (F,B), un-normalised, nats"),
        "SCD": Rule(OPENCV_GRAY, d.cddfuse_scd, "Evaluator.SCD: r(A, F-B) + r(B, F-A); float32"),
        "VIFF": Rule(OPENCV_GRAY, d.cddfuse_vif, "Evaluator.VIFF: pixel-domain VIFp(A,F) + VIFp(B,F) (Sheikh & Bovik), NaN -> 1; NOT Han et al.'s VIFF"),
        "VIFp_sum": Rule(OPENCV_GRAY, d.cddfuse_vif, "Evaluator.VIFF: VIFp(A,F) + VIFp(B,F), NaN -> 1"),
        "Qabf": Rule(OPENCV_GRAY, d.cddfuse_qabf, "Evaluator.Qabf: the 'online' Qabf (G = g_F where g_S == g_F, pi/2 where x = 0); float32"),
        "SSIMs": Rule(OPENCV_GRAY, d.cddfuse_ssim, "Evaluator.SSIM: skimage SSIM(F,A) + SSIM(F,B), SUMMED; 7x7 uniform window, data_range 2; float32"),
        "CC": Rule(OPENCV_GRAY, d.cddfuse_cc, "Evaluator.CC: (r(A,F) + r(B,F)) / 2; float32"),
    },
)

VIFB = Convention(
    "vifb",
    "VIFB's MATLAB metrics (visible-infrared benchmark)",
    "github.com/xingchenzhang/VIFB metrics/metrics*.m (commit 22b2ea9 of 2023-04-23), compute_metrics.m",
    {
        "AVG": Rule(RGB_CHANNELS, d.vifb_ag, "metricsAvg_gradient: MATLAB gradient (central differences), sum of sqrt((dx^2+dy^2)/2) / ((H-1)(W-1))"),
        "STD": Rule(RGB_CHANNELS, d.vifb_sd, "metricsVariance: population standard deviation (N)"),
        "SEN": Rule(RGB_CHANNELS, d.vifb_entropy, "metricsEntropy: Shannon entropy, 256 bins (floor), bits"),
        "SF": Rule(RGB_SIDE_BY_SIDE, None, "metricsSpatial_frequency: SF.m's formula"),
        "EI": Rule(RGB_CHANNELS, None, "metricsEdge_intensity: mean Sobel magnitude, replicate borders"),
        "MI": Rule(RGB_CHANNELS, d.vifb_mi, "metricsMutinf: MI(A,F) + MI(B,F) of images stretched to 0..255, un-normalised, nats"),
        "Qabf": Rule(RGB_CHANNELS, d.vifb_qabf, "metricsQabf: the 'online' Qabf (as CDDFuse's) on 255x scaled images, double"),
        "Qc": Rule(RGB_CHANNELS, None, "metricsQcb: metricChenBlum.m"),
        "Qcv": Rule(RGB_CHANNELS, None, "metricsQcv: metricChen.m"),
        "SSIMs": Rule(RGB_CHANNELS, d.vifb_ssim, "metricsSsim: SSIM(A,F) + SSIM(B,F), SUMMED; 11x11 Gaussian window, 'valid'"),
    },
)

CONVENTIONS: dict[str, Convention] = {c.name: c for c in (REFERENCE, UFA_PAPER, CDDFUSE, VIFB)}


def list_conventions() -> list[str]:
    return list(CONVENTIONS)


def get_convention(name: str | Convention | None) -> Convention:
    """The convention called ``name`` (``None``: ``reference``); ``ValueError`` listing the
    known ones otherwise."""
    if isinstance(name, Convention):
        return name
    key = "reference" if name is None else str(name).strip().lower()
    try:
        return CONVENTIONS[key]
    except KeyError:
        raise ValueError(f"unknown metric convention {name!r}; conventions: {', '.join(CONVENTIONS)}") from None


def describe(convention: Convention) -> list[tuple[str, Rule]]:
    """(metric, rule) for every metric the convention defines, in registry order."""
    return [(name, convention.rule(get_metric(name))) for name in convention.metrics()]
