"""CPU and wall time of ``fuse`` for some methods on the 520x520 colour Lytro pair lytro-01.

On a shared machine the wall time of ``benchmarks/test_methods_speed.py`` grows with the load;
the process CPU time (``time.process_time``, all threads of this process) grows much less, so
it is the better estimate of the idle-machine time. Usage::

    FUSIONBENCH_DATA=../shared/datasets .venv/bin/python benchmarks/methods_cpu_time.py cvt,nsct,sr [repeats]

Methods are specs as ``fusionbench run --methods`` takes them, e.g. ``'drpl,drpl[precision=bf16]'``.

Prints, per method, the minimum CPU and wall time of ``repeats`` calls (default 3) after one
warm-up call, and the 1-minute load average.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import fusionbench
from fusionbench.runner import parse_method_specs


def main(argv: list[str]) -> int:
    if not argv or not os.environ.get("FUSIONBENCH_DATA"):
        print(__doc__)
        return 2
    folder = Path(os.environ["FUSIONBENCH_DATA"]) / "lytro"
    a = fusionbench.read_image(folder / "lytro-01-A.jpg")
    b = fusionbench.read_image(folder / "lytro-01-B.jpg")
    repeats = int(argv[1]) if len(argv) > 1 else 3
    for spec in parse_method_specs(argv[0]):
        method = fusionbench.create_method(spec.name, **spec.params)
        method.fuse(a, b)
        cpu, wall = [], []
        for _ in range(repeats):
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            method.fuse(a, b)
            wall.append(time.perf_counter() - start_wall)
            cpu.append(time.process_time() - start_cpu)
        print(f"{spec.label}: cpu {min(cpu):.2f} s, wall {min(wall):.2f} s (min of {repeats}), load {os.getloadavg()[0]:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
