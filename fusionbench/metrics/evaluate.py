"""``evaluate``: several metrics on one (a, b, fused[, gt]) set, sharing intermediates."""

from __future__ import annotations

from typing import Iterable

from .inputs import ImageLike, MetricInputs
from .registry import resolve_metrics

__all__ = ["evaluate"]


def evaluate(
    a: ImageLike | None = None,
    b: ImageLike | None = None,
    fused: ImageLike | None = None,
    metrics: str | Iterable[str] | None = None,
    gt: ImageLike | None = None,
) -> dict[str, float]:
    """Score a fused image; returns ``{metric name: value}`` in the order requested.

    Images may be uint8 arrays, float arrays in [0, 1], or file paths; colour images are
    converted to gray with MATLAB's ``rgb2gray`` rule and all metrics see float64 on the
    [0, 255] scale (see :mod:`fusionbench.metrics.inputs`). ``metrics`` is a list of names or
    aliases, a comma-separated string, ``"seven"`` (the UFA-Fuse paper's set) or ``"all"``;
    ``None`` and ``"all"`` mean every registered metric whose images were given (``gt``
    metrics only with ``gt``); a metric named explicitly without its images is an error.
    Intermediates shared by several metrics are computed once.
    """
    inputs = MetricInputs.from_images(a=a, b=b, fused=fused, gt=gt)
    selected = resolve_metrics(metrics)
    if metrics is None or (isinstance(metrics, str) and metrics.strip().lower() == "all"):
        selected = [m for m in selected if inputs.has(m.needs)]
    else:
        for metric in selected:
            missing = [role for role in metric.needs if not inputs.has((role,))]
            if missing:
                raise ValueError(f"{metric.name} needs image(s) {missing}, which were not given")
    return {metric.name: inputs.run(metric) for metric in selected}
