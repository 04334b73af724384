"""Time the Python evaluator that many fusion papers copy (CDDFuse's ``utils/Evaluator.py``, read
from a local checkout, not vendored) on the golden 520 x 520 triple lytro_01_CNN, for the speed
comparison in reports/benchmarks/metrics.md. Prints ``metric,milliseconds`` (best of N rounds).

    FUSIONBENCH_GOLDEN=../shared/golden PYTHONPATH=<dir with scikit-learn> \\
        .venv/bin/python benchmarks/cddfuse_evaluator_timing.py path/to/MMIF-CDDFuse/utils/Evaluator.py 3

The evaluator imports ``cv2`` (only for reading files, not used here: replaced by an empty
module) and ``sklearn.metrics`` (MI); newer scikit-image needs ``data_range`` for float SSIM,
so ``data_range=255`` is passed (the speed does not depend on it). Its 8 metrics are the ones
its test script computes: EN, SD, SF, MI, SCD, VIFF, Qabf, SSIM.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
import types
from pathlib import Path

import numpy as np
from PIL import Image


def main() -> None:
    evaluator_path, rounds = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 3
    sys.modules.setdefault("cv2", types.ModuleType("cv2"))
    spec = importlib.util.spec_from_file_location("cddfuse_evaluator", evaluator_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    structural_similarity = module.ssim
    module.ssim = lambda x, y: structural_similarity(x, y, data_range=255.0)
    ev = module.Evaluator
    inputs = Path(os.environ["FUSIONBENCH_GOLDEN"]) / "inputs"
    ir, vi, fi = (np.asarray(Image.open(inputs / f"lytro_01_CNN-{k}.png")).astype(np.float64) for k in "ABF")
    calls = {
        "EN": lambda: ev.EN(fi),
        "SD": lambda: ev.SD(fi),
        "SF": lambda: ev.SF(fi),
        "MI": lambda: ev.MI(fi, ir, vi),
        "SCD": lambda: ev.SCD(fi, ir, vi),
        "VIFF": lambda: ev.VIFF(fi, ir, vi),
        "Qabf": lambda: ev.Qabf(fi, ir, vi),
        "SSIM": lambda: ev.SSIM(fi, ir, vi),
    }
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            best[name] = min(best.get(name, np.inf), time.perf_counter() - start)
        start = time.perf_counter()
        for call in calls.values():
            call()
        best["all 8"] = min(best.get("all 8", np.inf), time.perf_counter() - start)
    print("metric,milliseconds")
    for name, seconds in best.items():
        print(f"{name},{seconds * 1e3:.1f}")


if __name__ == "__main__":
    main()
