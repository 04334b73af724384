"""Fusion-quality metrics: the registry, ``evaluate`` and every metric as a plain function.

Each metric module registers its metrics with :func:`register_metric`; importing it here is
what makes them available. All metrics compute on gray float64 images on [0, 255]
(conventions in :mod:`fusionbench.metrics.inputs`); how other evaluators and papers compute
them differently - ``evaluate(..., convention="ufa-paper" | "cddfuse" | "vifb")`` - is in
:mod:`fusionbench.metrics.conventions`.
"""

from .evaluate import evaluate
from .inputs import MetricInputs, as_metric_array
from .registry import METRIC_SETS, Metric, get_metric, list_metrics, register_metric, resolve_metrics

# Metric modules (registration order = column order of tables).
from .image_statistics import avg, ei, sen, sf, std
from .viff import viff
from .gradient import qabf
from .chen_blum import qc
from .wavelet import qm
from .scd import scd
from .information import mi, ncie
from .feature_mi import fmi
from .reference_based import psnr, ssim
from .phase_congruency import qp
from .structural import qcvejic, qe, qs, qw, qy
from .chen_varshney import qcv
from .information import te
from .artifacts import nabf
from .vif_pixel import vifp_a, vifp_b, vifp_sum
from .similarity import cc, ms_ssim, ssims

__all__ = [
    "evaluate",
    "MetricInputs",
    "as_metric_array",
    "Metric",
    "METRIC_SETS",
    "get_metric",
    "list_metrics",
    "register_metric",
    "resolve_metrics",
    "avg",
    "std",
    "sen",
    "sf",
    "ei",
    "viff",
    "qabf",
    "qc",
    "qm",
    "scd",
    "mi",
    "ncie",
    "fmi",
    "psnr",
    "ssim",
    "qp",
    "qw",
    "qs",
    "qe",
    "qy",
    "qcvejic",
    "qcv",
    "te",
    "nabf",
    "vifp_a",
    "vifp_b",
    "vifp_sum",
    "cc",
    "ssims",
    "ms_ssim",
]
