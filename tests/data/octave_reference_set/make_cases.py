"""Write the 8-bit gray triples <case>-A.png, -B.png, -F.png of this folder (run from it:
``python make_cases.py``). Content: crops of scikit-image's bundled ``camera`` and ``moon``
images made multi-focus (one half box-blurred in each source), integer arithmetic only.

Ordinary cases (the compact reference set of all 20 golden metrics):
  camera_48x44     F = ceil((A + B) / 2)
  moon_43x57       F = max(A, B) (odd sizes)
Degenerate cases (issue 16: the reference code's behaviour where formulas divide by zero):
  fusedA_48x44     F = A (a decision map that picked one source everywhere)
  fusedB_48x44     F = B
  constF0_48x44    F = 0 everywhere
  constF255_48x44  F = 255 everywhere (saturated)
  constA_48x44     A = 100 everywhere, F = ceil((A + B) / 2)
  zeroB_48x44      B = 0 everywhere, F = A
  allconst_48x44   A = B = F = 77
  equal_48x44      A = B = F (not constant)
  saturated_48x44  over-exposed A and under-exposed B (large flat areas at 255 and 0), F = their mean
  tiny_8x8         8 x 8 multi-focus, F = ceil((A + B) / 2)
  row_1x64         one row
  col_64x1         one column
"""

from __future__ import annotations

import numpy as np
import skimage.data
from PIL import Image


def box_blur_u8(image: np.ndarray, size: int) -> np.ndarray:
    """size x size mean filter, replicated border, rounded half up, integer arithmetic."""
    pad = size // 2
    padded = np.pad(image.astype(np.int64), pad, mode="edge")
    total = np.zeros(image.shape, dtype=np.int64)
    for dy in range(size):
        for dx in range(size):
            total += padded[dy : dy + image.shape[0], dx : dx + image.shape[1]]
    return ((total + size * size // 2) // (size * size)).astype(np.uint8)


def multifocus(scene: np.ndarray, blur: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """A sharp in the left half (top half for one column), B sharp in the other half."""
    blurred = box_blur_u8(scene, blur)
    near = np.zeros(scene.shape, dtype=bool)
    if scene.shape[1] > 1:
        near[:, : scene.shape[1] // 2] = True
    else:
        near[: scene.shape[0] // 2, :] = True
    return np.where(near, scene, blurred), np.where(near, blurred, scene)


def mean_up(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return ((a.astype(np.int64) + b + 1) // 2).astype(np.uint8)


def cases() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    camera = skimage.data.camera()
    moon = skimage.data.moon()
    out = {}
    scene = camera[180:228, 200:244]  # 48 x 44
    a, b = multifocus(scene)
    out["camera_48x44"] = (a, b, mean_up(a, b))
    out["fusedA_48x44"] = (a, b, a.copy())
    out["fusedB_48x44"] = (a, b, b.copy())
    out["constF0_48x44"] = (a, b, np.zeros_like(a))
    out["constF255_48x44"] = (a, b, np.full_like(a, 255))
    const_a = np.full_like(a, 100)
    out["constA_48x44"] = (const_a, b, mean_up(const_a, b))
    out["zeroB_48x44"] = (a, np.zeros_like(b), a.copy())
    out["allconst_48x44"] = tuple(np.full_like(a, 77) for _ in range(3))
    out["equal_48x44"] = (scene.copy(), scene.copy(), scene.copy())
    bright = np.clip(scene.astype(np.int64) * 2, 0, 255).astype(np.uint8)
    dark = np.clip(scene.astype(np.int64) * 2 - 255, 0, 255).astype(np.uint8)
    out["saturated_48x44"] = (bright, dark, mean_up(bright, dark))

    a, b = multifocus(moon[200:243, 250:307])  # 43 x 57
    out["moon_43x57"] = (a, b, np.maximum(a, b))
    a, b = multifocus(camera[100:108, 220:228], blur=3)
    out["tiny_8x8"] = (a, b, mean_up(a, b))
    a, b = multifocus(camera[150:151, 180:244], blur=3)
    out["row_1x64"] = (a, b, mean_up(a, b))
    a, b = multifocus(camera[150:214, 200:201], blur=3)
    out["col_64x1"] = (a, b, mean_up(a, b))
    return out


def main() -> None:
    for case_id, triple in cases().items():
        for tag, image in zip("ABF", triple):
            Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(f"{case_id}-{tag}.png")


if __name__ == "__main__":
    main()
