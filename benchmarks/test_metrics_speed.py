"""Speed of every registered metric on a 520 x 520 Lytro triple (golden case lytro_01_CNN),
from uint8 arrays as a user passes them (conversion included, nothing cached between rounds),
plus the UFA-Fuse paper's seven metrics together and all metrics together through ``evaluate``
(where intermediates are shared). The golden set has no ground truth, so metrics that need one
(PSNR, SSIM) use source A in its place: the timing does not depend on the content.

    FUSIONBENCH_GOLDEN=../shared/golden .venv/bin/pytest benchmarks/test_metrics_speed.py \\
        --benchmark-enable --benchmark-columns=min,median,mean,rounds

Targets (issues 3 and 16, 2-core machine): seven together <= 30 ms, VIFF <= 15 ms, Qp <= 150 ms,
others <= 50 ms, all together <= 400 ms.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import fusionbench
from fusionbench.metrics import METRIC_SETS, get_metric


@pytest.fixture(scope="module")
def lytro_triple() -> dict[str, np.ndarray]:
    folder = os.environ.get("FUSIONBENCH_GOLDEN")
    if not folder:
        pytest.skip("FUSIONBENCH_GOLDEN is not set (the benchmark uses its 520x520 lytro_01_CNN inputs)")
    inputs = Path(folder) / "inputs"
    return {
        role: np.asarray(Image.open(inputs / f"lytro_01_CNN-{suffix}.png"))
        for role, suffix in (("a", "A"), ("b", "B"), ("fused", "F"))
    } | {"gt": np.asarray(Image.open(inputs / "lytro_01_CNN-A.png"))}


# Targets of issues 3 and 16 (ms, 2-core machine).
TARGET_MS = {"VIFF": 15.0, "Qp": 150.0, "seven": 30.0, "all": 400.0}
OTHER_TARGET_MS = 50.0


def _note_load(benchmark, run) -> object:
    """Run the benchmark, recording the 1-minute load average before and after (this machine
    is shared: times taken under load are slower than on an idle machine)."""
    before = os.getloadavg()[0]
    result = run()
    benchmark.extra_info["load"] = [round(before, 2), round(os.getloadavg()[0], 2)]
    return result


@pytest.mark.parametrize("name", fusionbench.list_metrics())
def test_metric_alone(benchmark, lytro_triple: dict[str, np.ndarray], name: str) -> None:
    metric = get_metric(name)
    images = [lytro_triple[role] for role in metric.needs]
    benchmark.extra_info.update(metric=name, target_ms=TARGET_MS.get(name, OTHER_TARGET_MS))
    value = _note_load(benchmark, lambda: benchmark(metric, *images))
    assert isinstance(value, float)


def test_seven_together(benchmark, lytro_triple: dict[str, np.ndarray]) -> None:
    missing = [m for m in METRIC_SETS["seven"] if m not in fusionbench.list_metrics()]
    if missing:
        pytest.skip(f"not registered yet: {missing}")
    a, b, fused = lytro_triple["a"], lytro_triple["b"], lytro_triple["fused"]
    benchmark.extra_info.update(metric="seven via evaluate", target_ms=TARGET_MS["seven"])
    scores = _note_load(benchmark, lambda: benchmark(fusionbench.evaluate, a, b, fused, metrics="seven"))
    assert list(scores) == list(METRIC_SETS["seven"])


def test_all_together(benchmark, lytro_triple: dict[str, np.ndarray]) -> None:
    benchmark.extra_info.update(metric="all via evaluate", target_ms=TARGET_MS["all"])
    scores = _note_load(benchmark, lambda: benchmark(fusionbench.evaluate, metrics="all", **lytro_triple))
    assert list(scores) == fusionbench.list_metrics()
