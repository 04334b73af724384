"""Small test cases cut from the shared data at test time (never stored in the repository).

Some Octave reference values (tests/data/octave_extra_metrics, tests/data/octave_vifb) were
computed on crops of shared images. The crops are rebuilt here, from the folders named by
FUSIONBENCH_GOLDEN / FUSIONBENCH_DATA, exactly as they were when the values were made.
``python -m tests.shared_crops GOLDEN_DIR DATASETS_DIR OUT_DIR`` writes them as PNGs for an
Octave run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image


def _crop(path: Path, rows: slice, cols: slice) -> np.ndarray:
    return np.asarray(Image.open(path))[rows, cols]


def golden_crops(golden: Path) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``lytro02_181x197``: rows 150:331, columns 100:297 of the golden case lytro_02_GFF (odd
    sizes of at least 176 px, the smallest MS-SSIM accepts)."""
    return {
        "lytro02_181x197": tuple(
            _crop(golden / "inputs" / f"lytro_02_GFF-{tag}.png", slice(150, 331), slice(100, 297)) for tag in "ABF"
        )
    }


def dataset_crops(datasets: Path) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``lytro03_61x73``: colour crop [200:261, 300:373] of MFIFB's lytro_03 sources and the
    published DPRL fused image. ``flir00211_53x67``: crop [100:153, 150:217] of RoadScene
    FLIR_00211, A = colour visible, B = gray infrared, F = round_half_away((VIS + IR) / 2)."""
    results = datasets.parent / "reference-results" / "mfifb-lytro"
    rows, cols = slice(200, 261), slice(300, 373)
    lytro = tuple(
        _crop(path, rows, cols)
        for path in (datasets / "mfifb/lytro_03-A.jpg", datasets / "mfifb/lytro_03-B.jpg", results / "lytro_03_DPRL.jpg")
    )
    rows, cols = slice(100, 153), slice(150, 217)
    vis = _crop(datasets / "roadscene/FLIR_00211-VIS.jpg", rows, cols)
    ir = _crop(datasets / "roadscene/FLIR_00211-IR.jpg", rows, cols)
    fused = np.floor((vis.astype(float) + ir[..., None]) / 2 + 0.5).astype(np.uint8)
    return {"lytro03_61x73": lytro, "flir00211_53x67": (vis, ir, fused)}


if __name__ == "__main__":
    golden, datasets, out = (Path(arg) for arg in sys.argv[1:4])
    out.mkdir(parents=True, exist_ok=True)
    for case_id, images in {**golden_crops(golden), **dataset_crops(datasets)}.items():
        for tag, image in zip("ABF", images):
            Image.fromarray(image).save(out / f"{case_id}-{tag}.png")
