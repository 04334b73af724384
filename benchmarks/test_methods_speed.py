"""Speed of every registered fusion method on a 520x520 colour Lytro pair (lytro-01).

Run (the table in reports/benchmarks/methods.md is made from the JSON)::

    FUSIONBENCH_DATA=../shared/datasets .venv/bin/pytest benchmarks/test_methods_speed.py \\
        --benchmark-enable --benchmark-json=.benchmarks/methods.json
    .venv/bin/python benchmarks/methods_report.py .benchmarks/methods.json --out reports/benchmarks/methods.md

Methods are found with ``fusionbench.list_methods()``, so new ones are benchmarked without
editing this file; methods that need parameters to run (``precomputed``) are left out. A
method that takes seconds gets a fixed small number of rounds in ``ROUNDS``; one that should
not run here at all goes in ``SKIP`` with the reason. Skipped without FUSIONBENCH_DATA.
"""

from __future__ import annotations

import os
import shlex
import sys

import pytest

import fusionbench
from fusionbench.registry import get_method_class, required_params

# Methods too slow for pytest-benchmark's automatic calibration: fixed rounds (1 warm-up).
ROUNDS: dict[str, int] = {"sr": 3, "ufa": 3, "cnn": 3, "sesf": 3, "drpl": 3, "mffgan": 3, "densefuse": 3,
                          "densefuse[rule=l1]": 3, "deepfuse": 3, "ifcnn": 3, "ifcnn[rule=sum]": 3}

# Settings timed besides each method's defaults (a method's label: NAME[key=value]).
VARIANTS: list[tuple[str, dict]] = [("densefuse", {"rule": "l1"}), ("ifcnn", {"rule": "sum"})]

# Methods not benchmarked here, with the reason (shown as the skip reason).
SKIP: dict[str, str] = {
    variant: "same network size as ufa, so the same time (ufa: also benchmarks/test_ufa_speed.py)"
    for variant in ("ufa-no-ca", "ufa-no-sa", "ufa-no-ufa")
}

# Targets on the project's 2-core machine, in milliseconds per colour pair (issues 4 and 5).
TARGET_MS: dict[str, float] = {
    "average": 30, "max": 30, "dwt": 30, "lp": 30, "rp": 30, "mp": 30,
    "gff": 80,
    "swt": 150, "dtcwt": 150, "sf": 150,
    "cvt": 1500, "nsct": 1500, "mwgf": 3000, "dsift": 3000, "imf": 3000, "sr": 10000,
    "ufa": 2500,
    "gtf": 10000,  # issue 11
    "densefuse": 2000, "densefuse[rule=l1]": 2000, "deepfuse": 2000, "ifcnn": 2000, "ifcnn[rule=sum]": 2000,
    "cnn": 5000, "sesf": 5000, "drpl": 5000, "mffgan": 5000,  # issue 12
}


def _benchmarked_methods() -> list[tuple[str, dict]]:
    defaults = [(name, {}) for name in fusionbench.list_methods() if not required_params(get_method_class(name))]
    return defaults + VARIANTS


def _label(name: str, params: dict) -> str:
    return name + ("[" + ",".join(f"{k}={v}" for k, v in params.items()) + "]" if params else "")


@pytest.mark.parametrize("name,params", _benchmarked_methods(), ids=[_label(*case) for case in _benchmarked_methods()])
def test_fuse_speed(benchmark, lytro_pair, name: str, params: dict) -> None:
    if name in SKIP:
        pytest.skip(SKIP[name])
    a, b = lytro_pair
    assert a.shape == (520, 520, 3)
    method = fusionbench.create_method(name, **params)
    label = _label(name, params)
    benchmark.group = "fuse 520x520 colour"
    benchmark.extra_info.update(
        method=label,
        family=get_method_class(name).family,
        target_ms=TARGET_MS.get(label),
        load_before=os.getloadavg()[0],
        cpus=os.cpu_count(),
        command=" ".join([f"FUSIONBENCH_DATA={os.environ['FUSIONBENCH_DATA']}", "pytest", *map(shlex.quote, sys.argv[1:])]),
    )
    if label in ROUNDS:
        fused = benchmark.pedantic(method.fuse, args=(a, b), rounds=ROUNDS[label], iterations=1, warmup_rounds=1)
    else:
        fused = benchmark(method.fuse, a, b)
    benchmark.extra_info["load_after"] = os.getloadavg()[0]
    assert fused.shape == a.shape
