"""Time and peak memory of UFA-Fuse on one large colour pair (default 4096 x 4096), CPU.

    .venv/bin/python benchmarks/ufa_large.py [--size 4096]

The pair is the embedded example pair (``fusionbench.data.example``, 512 x 512) tiled to the
size, so every region has real multi-focus content. Prints the wall time of
``create_method("ufa").fuse(a, b)`` and the process's peak resident memory (inputs and
output included). Numbers are recorded in reports/training/ufa.md.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

import fusionbench
from fusionbench.data import example


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096)
    size = parser.parse_args().size
    pair = example(color=True)
    reps = -(-size // pair.a.shape[0])
    a, b = (np.tile(x, (reps, reps, 1))[:size, :size].copy() for x in (pair.a, pair.b))
    method = fusionbench.create_method("ufa")
    start = time.perf_counter()
    fused = method.fuse(a, b)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{size}x{size} colour pair: {seconds:.1f} s, fused {fused.shape} in [{fused.min():.3f}, {fused.max():.3f}], "
          f"peak RSS {peak_mb:.0f} MB (inputs + output {3 * a.nbytes / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
