"""``evaluate``: several metrics on one (a, b, fused[, gt]) set, sharing intermediates."""

from __future__ import annotations

from typing import Callable, Iterable

from .inputs import ImageLike, MetricInputs
from .registry import Metric, resolve_metrics

__all__ = ["evaluate"]


def evaluate(
    a: ImageLike | None = None,
    b: ImageLike | None = None,
    fused: ImageLike | None = None,
    metrics: str | Iterable[str] | None = None,
    gt: ImageLike | None = None,
    convention: str = "reference",
) -> dict[str, float]:
    """Score a fused image; returns ``{metric name: value}`` in the order requested.

    Images may be uint8 arrays, float arrays in [0, 1], or file paths; colour images are
    converted to gray with MATLAB's ``rgb2gray`` rule and all metrics see float64 on the
    [0, 255] scale (see :mod:`fusionbench.metrics.inputs`). ``metrics`` is a list of names or
    aliases, a comma-separated string, ``"seven"`` (the UFA-Fuse paper's set) or ``"all"``;
    ``None`` and ``"all"`` mean every registered metric whose images were given (``gt``
    metrics only with ``gt``); a metric named explicitly without its images is an error.
    Intermediates shared by several metrics are computed once.

    ``convention`` (see :mod:`fusionbench.metrics.conventions`) scores the images the way a
    given paper or evaluator did: ``"reference"`` (default, the golden MATLAB definitions),
    ``"ufa-paper"``, ``"cddfuse"``, ``"vifb"``. Under a convention other than the reference,
    ``None`` / ``"all"`` mean every metric that convention defines.
    """
    # Imported here: the conventions import metric modules, which must register in order.
    from .conventions import get_convention

    scheme = get_convention(convention)
    everything = metrics is None or (isinstance(metrics, str) and metrics.strip().lower() == "all")
    if scheme.rules is None:  # the reference convention: one MetricInputs of gray 0..255 arrays
        inputs = MetricInputs.from_images(a=a, b=b, fused=fused, gt=gt)
        selected = _check_images(resolve_metrics(metrics), everything, inputs.has)
        return {metric.name: inputs.run(metric) for metric in selected}
    images = {"a": a, "b": b, "fused": fused, "gt": gt}
    selected = resolve_metrics(metrics)
    if everything:
        selected = [m for m in selected if scheme.defines(m)]
    for metric in selected:
        scheme.rule(metric)  # an error naming the convention's metrics when it lacks one
    selected = _check_images(selected, everything, lambda roles: all(images[r] is not None for r in roles))
    return scheme.evaluate(images, selected)


def _check_images(selected: list[Metric], everything: bool, given: Callable[[tuple[str, ...]], bool]) -> list[Metric]:
    """With ``everything``, the metrics whose images were given; otherwise all of them, or a
    ``ValueError`` naming a metric whose images are missing."""
    if everything:
        return [m for m in selected if given(m.needs)]
    for metric in selected:
        missing = [role for role in metric.needs if not given((role,))]
        if missing:
            raise ValueError(f"{metric.name} needs image(s) {missing}, which were not given")
    return selected
