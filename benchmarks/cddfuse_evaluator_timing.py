"""Time the Python evaluator that many fusion papers copy (CDDFuse's ``utils/Evaluator.py``, read
from a local checkout, not vendored) on the golden 520 x 520 triple lytro_01_CNN, optionally
interleaved with ours, for reports/benchmarks/metrics.md. Prints ``metric,milliseconds`` (best
of N rounds; VIFF and "all 8" of the evaluator, which take seconds, at most 2 rounds).

    FUSIONBENCH_GOLDEN=../shared/golden PYTHONPATH=<dir with scikit-learn> \\
        .venv/bin/python benchmarks/cddfuse_evaluator_timing.py path/to/utils/Evaluator.py --rounds 2
    # single-thread CPU time, ours included (section 2 of the report):
    FUSIONBENCH_METRIC_THREADS=1 OPENBLAS_NUM_THREADS=1 ... --rounds 6 --clock cpu --ours

The evaluator imports ``cv2`` (only for reading files, not used here: replaced by an empty
module) and ``sklearn.metrics`` (MI); newer scikit-image needs ``data_range`` for float SSIM,
so ``data_range=255`` is passed (the speed does not depend on it). Its 8 metrics are the ones
its test script computes: EN, SD, SF, MI, SCD, VIFF, Qabf, SSIM.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
import types
from pathlib import Path

import numpy as np
from PIL import Image

import fusionbench
from fusionbench.metrics import get_metric

SLOW = {"CDDFuse VIFF", "CDDFuse all 8"}
OURS = ["AVG", "STD", "SEN", "VIFF", "Qabf", "Qc", "Qm", "SCD"]


def _load_evaluator(path: Path):
    sys.modules.setdefault("cv2", types.ModuleType("cv2"))
    spec = importlib.util.spec_from_file_location("cddfuse_evaluator", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    structural_similarity = module.ssim
    module.ssim = lambda x, y: structural_similarity(x, y, data_range=255.0)
    return module.Evaluator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("evaluator", type=Path, help="MMIF-CDDFuse/utils/Evaluator.py")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    parser.add_argument("--ours", action="store_true", help="also time our metrics, interleaved")
    args = parser.parse_args()
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    ev = _load_evaluator(args.evaluator)
    inputs = Path(os.environ["FUSIONBENCH_GOLDEN"]) / "inputs"
    images = {role: np.asarray(Image.open(inputs / f"lytro_01_CNN-{k}.png")) for role, k in zip(("a", "b", "fused"), "ABF")}
    ir, vi, fi = (images[role].astype(np.float64) for role in ("a", "b", "fused"))
    evaluator_calls = {
        "EN": lambda: ev.EN(fi),
        "SD": lambda: ev.SD(fi),
        "SF": lambda: ev.SF(fi),
        "MI": lambda: ev.MI(fi, ir, vi),
        "SCD": lambda: ev.SCD(fi, ir, vi),
        "VIFF": lambda: ev.VIFF(fi, ir, vi),
        "Qabf": lambda: ev.Qabf(fi, ir, vi),
        "SSIM": lambda: ev.SSIM(fi, ir, vi),
    }
    calls = {f"CDDFuse {name}": call for name, call in evaluator_calls.items()}
    calls["CDDFuse all 8"] = lambda: [call() for call in evaluator_calls.values()]
    if args.ours:
        for name in OURS:
            metric = get_metric(name)
            calls[f"ours {name}"] = lambda m=metric: m(*(images[role] for role in m.needs))
        a, b, f = images["a"], images["b"], images["fused"]
        calls["ours seven via evaluate"] = lambda: fusionbench.evaluate(a, b, f, metrics="seven")
        calls["ours CDDFuse's 8 via evaluate"] = lambda: fusionbench.evaluate(
            a, b, f, gt=a, metrics="SEN,STD,SF,MI,SCD,VIFF,Qabf,SSIM"
        )
    best: dict[str, float] = {}
    for round_index in range(args.rounds):
        for name, call in calls.items():
            if name in SLOW and round_index >= 2:
                continue
            start = clock()
            call()
            best[name] = min(best.get(name, np.inf), clock() - start)
    print(f"# clock={args.clock}, load average {os.getloadavg()[0]:.1f}")
    print("metric,milliseconds")
    for name, seconds in best.items():
        print(f"{name.removeprefix('CDDFuse ') if not args.ours else name},{seconds * 1e3:.1f}")


if __name__ == "__main__":
    main()
