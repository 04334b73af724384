"""The metric registry: one :class:`Metric` per fusion-quality measure.

A metric is written once, as a function of :class:`~fusionbench.metrics.inputs.MetricInputs`
(so that :func:`fusionbench.evaluate` can share intermediates between metrics), and registered
with :func:`register_metric`. The decorator returns a :class:`Metric`, which is also the plain
function users call::

    @register_metric("Qabf", aliases=["QG"], needs=("a", "b", "fused"),
                     higher_is_better=True, range=(0, 1), reference="Xydeas & Petrovic 2000")
    def qabf(x: MetricInputs) -> float: ...

    qabf(a, b, fused)   # arrays (uint8, float [0,1]) or paths
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .inputs import ROLES, MetricInputs

__all__ = ["Metric", "register_metric", "get_metric", "list_metrics", "resolve_metrics", "METRIC_SETS"]

_REGISTRY: dict[str, "Metric"] = {}
_ALIASES: dict[str, str] = {}  # lower-case name or alias -> canonical name

# Named selections usable wherever a metric list is accepted.
METRIC_SETS: dict[str, tuple[str, ...]] = {
    # The seven metrics of the UFA-Fuse paper (Table V), in its column order.
    "seven": ("AVG", "STD", "SEN", "VIFF", "Qabf", "Qc", "Qm"),
}


@dataclass(frozen=True)
class Metric:
    """A registered metric; calling it computes the value from plain images.

    ``needs`` orders the positional arguments: a metric with ``needs=("a", "b", "fused")`` is
    called as ``metric(a, b, fused)``, one with ``needs=("fused",)`` as ``metric(fused)``.
    """

    name: str
    compute: Callable[[MetricInputs], float] = field(repr=False)
    needs: tuple[str, ...]
    higher_is_better: bool | None
    range: tuple[float, float]
    reference: str
    aliases: tuple[str, ...] = ()
    description: str = ""

    def __call__(self, *images, **named) -> float:
        if len(images) > len(self.needs):
            raise TypeError(f"{self.name} takes {len(self.needs)} images {self.needs}, got {len(images)}")
        given = dict(zip(self.needs, images))
        for role, image in named.items():
            if role not in ROLES:
                raise TypeError(f"{self.name}: unknown image role {role!r}; roles are {ROLES}")
            given[role] = image
        missing = [r for r in self.needs if r not in given]
        if missing:
            raise TypeError(f"{self.name} needs images {self.needs}; missing {missing}")
        inputs = MetricInputs.from_images(**given, context=self.name)
        return inputs.run(self)

    @property
    def direction(self) -> str:
        if self.higher_is_better is None:
            return "-"
        return "higher" if self.higher_is_better else "lower"


def register_metric(
    name: str,
    *,
    needs: Iterable[str] = ("a", "b", "fused"),
    higher_is_better: bool | None = True,
    range: tuple[float, float] = (-math.inf, math.inf),
    reference: str = "",
    aliases: Iterable[str] = (),
) -> Callable[[Callable[[MetricInputs], float]], Metric]:
    """Register ``compute(inputs) -> float`` under ``name`` and return the :class:`Metric`."""
    needs = tuple(needs)
    for role in needs:
        if role not in ROLES:
            raise ValueError(f"metric {name}: unknown role {role!r} in needs; roles are {ROLES}")

    def decorator(compute: Callable[[MetricInputs], float]) -> Metric:
        doc = (compute.__doc__ or "").strip()
        metric = Metric(
            name=name,
            compute=compute,
            needs=needs,
            higher_is_better=higher_is_better,
            range=(float(range[0]), float(range[1])),
            reference=reference,
            aliases=tuple(aliases),
            description=doc.splitlines()[0] if doc else "",
        )
        keys = [name, *metric.aliases]
        for key in keys:
            owner = _ALIASES.get(key.lower())
            if owner is not None and owner != name:
                raise ValueError(f"metric name {key!r} is already used by {owner}")
        _REGISTRY[name] = metric
        for key in keys:
            _ALIASES[key.lower()] = name
        return metric

    return decorator


def get_metric(name: str) -> Metric:
    """The metric registered as ``name`` or one of its aliases (case-insensitive)."""
    canonical = _ALIASES.get(name.lower())
    if canonical is None:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown metric {name!r}; known metrics: {known}")
    return _REGISTRY[canonical]


def list_metrics(pattern: str | None = None) -> list[str]:
    """Registered metric names, in registration order, optionally filtered by a glob pattern
    (case-insensitive, matched against names and aliases)."""
    if pattern is None:
        return list(_REGISTRY)
    pattern = pattern.lower()
    return [
        name
        for name, metric in _REGISTRY.items()
        if any(fnmatch.fnmatchcase(key.lower(), pattern) for key in (name, *metric.aliases))
    ]


def resolve_metrics(metrics: str | Iterable[str] | None) -> list[Metric]:
    """Turn ``None`` (all), a set name (``"seven"``, ``"all"``), a comma-separated string or a
    list of names/aliases into metrics, without duplicates, in the order given."""
    if metrics is None:
        names: list[str] = list(_REGISTRY)
    elif isinstance(metrics, str):
        names = [m.strip() for m in metrics.split(",") if m.strip()]
    else:
        names = list(metrics)
    expanded: list[str] = []
    for name in names:
        key = name.lower()
        if key == "all":
            expanded.extend(_REGISTRY)
        elif key in METRIC_SETS:
            expanded.extend(METRIC_SETS[key])
        else:
            expanded.append(name)
    resolved: dict[str, Metric] = {}
    for name in expanded:
        metric = get_metric(name)
        resolved.setdefault(metric.name, metric)
    return list(resolved.values())
