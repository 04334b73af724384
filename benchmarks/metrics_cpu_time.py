"""Single-thread CPU time of the UFA-Fuse paper's seven metrics (each alone and together via
``evaluate``), Qp and all metrics, on the golden 520 x 520 triple lytro_01_CNN: minimum of N calls
after a warm-up, ``time.process_time`` (steadier than wall time on a shared machine). For
reports/benchmarks/metrics.md, section 0:

    FUSIONBENCH_METRIC_THREADS=1 OPENBLAS_NUM_THREADS=1 FUSIONBENCH_GOLDEN=../shared/golden \\
        .venv/bin/python benchmarks/metrics_cpu_time.py
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from PIL import Image

import fusionbench
from fusionbench.metrics import get_metric


def cpu_ms(call, rounds: int = 9) -> float:
    call()
    times = []
    for _ in range(rounds):
        start = time.process_time()
        call()
        times.append(time.process_time() - start)
    return min(times) * 1e3


def main() -> None:
    inputs = Path(os.environ["FUSIONBENCH_GOLDEN"]) / "inputs"
    a, b, f = (np.asarray(Image.open(inputs / f"lytro_01_CNN-{tag}.png")) for tag in "ABF")
    images = {"a": a, "b": b, "fused": f, "gt": a}
    print("what,cpu_ms")
    for name in ("AVG", "STD", "SEN", "VIFF", "Qabf", "Qc", "Qm", "Qp"):
        metric = get_metric(name)
        print(f"{name},{cpu_ms(lambda: metric(*(images[r] for r in metric.needs))):.1f}")
    print(f"seven via evaluate,{cpu_ms(lambda: fusionbench.evaluate(a, b, f, metrics='seven')):.1f}")
    print(f"all via evaluate,{cpu_ms(lambda: fusionbench.evaluate(a, b, f, gt=a), rounds=3):.1f}")
    print(f"load,{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
