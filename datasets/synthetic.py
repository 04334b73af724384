"""The embedded ``synthetic`` dataset: multi-focus pairs with ground truth, made offline.

Each pair (listed in ``synthetic.toml``) is a ``size`` x ``size`` crop of a picture that ships
inside scikit-image (``skimage.data``), used as the ground truth, and a focus mask of a fixed
shape; source A is the ground truth where the mask is true and the ``blur`` x ``blur``
mean-filtered ground truth elsewhere, B the opposite (:func:`fusionbench.data.multifocus_pair`).
Sources are quantised to 8 bits (round half away from zero) and written as PNG, with the
ground truth as ``<pair>-GT.png``, under ``<cache root>/synthetic/<spec hash>/`` (never into the
data root, which may be a read-only shared folder). Everything is deterministic: no random
numbers, no resampling.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from fusionbench.data import multifocus_pair
from fusionbench.io import read_image_native, to_uint8
from fusionbench.paths import cache_root

from .catalog import Dataset, DatasetError, DatasetPairs, FileCheck, Pair

__all__ = ["MASKS", "focus_mask", "generate_pair", "materialise", "verify_generated"]


def focus_mask(kind: str, size: int) -> np.ndarray:
    """Boolean (size, size) mask, True where source A is in focus."""
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    centre = (size - 1) / 2.0
    if kind not in MASKS:
        raise DatasetError(f"synthetic: unknown mask {kind!r}; masks: {', '.join(MASKS)}")
    return MASKS[kind](rows, cols, size, centre)


MASKS = {
    "left": lambda r, c, n, m: c < n / 2,
    "top": lambda r, c, n, m: r < n / 2,
    "disk": lambda r, c, n, m: (r - m) ** 2 + (c - m) ** 2 < (0.3 * n) ** 2,
    "diagonal": lambda r, c, n, m: c > r,
    "stripe": lambda r, c, n, m: np.abs(c - m) < n / 6,
    "wave": lambda r, c, n, m: r < n / 2 + n / 8 * np.sin(2 * np.pi * c / n),
}


def generate_pair(spec: dict, size: int) -> dict[str, np.ndarray]:
    """The uint8 images ``{"A", "B", "GT"}`` of one pair spec (picture, crop, mask, blur)."""
    from skimage import data as skdata

    picture = getattr(skdata, spec["picture"], None)
    if picture is None:
        raise DatasetError(f"synthetic pair {spec['name']}: skimage.data has no picture {spec['picture']!r}")
    image = np.asarray(picture())
    row, col = spec["crop"]
    gt = image[row : row + size, col : col + size]
    if gt.shape[:2] != (size, size):
        raise DatasetError(
            f"synthetic pair {spec['name']}: crop {spec['crop']} of {spec['picture']} {image.shape[:2]} "
            f"is not {size}x{size}"
        )
    pair = multifocus_pair(gt.astype(np.float32) / np.float32(255), focus_mask(spec["mask"], size), int(spec["blur"]))
    return {"A": to_uint8(pair.a), "B": to_uint8(pair.b), "GT": np.ascontiguousarray(gt)}


def _folder(descriptor: Dataset, cache_dir: str | os.PathLike | None) -> Path:
    digest = hashlib.sha256(json.dumps(descriptor.spec, sort_keys=True).encode()).hexdigest()[:12]
    return cache_root(cache_dir) / "synthetic" / digest


def materialise(descriptor: Dataset, cache_dir: str | os.PathLike | None = None) -> DatasetPairs:
    """Write the synthetic pairs (once) and return them; later calls reuse the files."""
    folder = _folder(descriptor, cache_dir)
    size = int(descriptor.spec["size"])
    pairs = []
    for spec in descriptor.spec["pairs"]:
        paths = {role: folder / f"{spec['name']}-{role}.png" for role in ("A", "B", "GT")}
        if not all(p.is_file() for p in paths.values()):
            folder.mkdir(parents=True, exist_ok=True)
            for role, image in generate_pair(spec, size).items():
                _write_png_atomic(paths[role], image)
        pairs.append(Pair(spec["name"], paths["A"], paths["B"], paths["GT"]))
    return DatasetPairs(descriptor.name, descriptor.roles, folder, tuple(pairs), descriptor)


def verify_generated(descriptor: Dataset, cache_dir: str | os.PathLike | None = None) -> list[FileCheck]:
    """Compare the written files with freshly generated pixels."""
    folder = _folder(descriptor, cache_dir)
    size = int(descriptor.spec["size"])
    checks = []
    for spec in descriptor.spec["pairs"]:
        for role, image in generate_pair(spec, size).items():
            path = folder / f"{spec['name']}-{role}.png"
            if not path.is_file():
                checks.append(FileCheck(str(path), "missing", "generated on first use (fusionbench run --dataset synthetic)"))
            elif not np.array_equal(read_image_native(path), image):
                checks.append(FileCheck(str(path), "pixels", "differs from the generated image; delete the folder to regenerate"))
            else:
                checks.append(FileCheck(str(path), "ok"))
    return checks


def _write_png_atomic(path: Path, image: np.ndarray) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            Image.fromarray(image).save(fh, format="PNG")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
