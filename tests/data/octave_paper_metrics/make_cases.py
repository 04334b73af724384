"""Write the input images of the extra Qabf/Qc/Qm/SCD/VIFF reference cases (run once, from this
folder). Sources: images bundled with scikit-image; only integer arithmetic here, the
non-integer case is derived from two of these PNGs by ``float_case`` (also used by the tests).
Also writes that case as %.17g text files for Octave (*.txt, not kept)."""

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


def multifocus(gt: np.ndarray, near: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    blurred = box_blur_u8(gt, size)
    return np.where(near, gt, blurred), np.where(near, blurred, gt)


def float_case(sharp: np.ndarray, blurred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-integer triple on [0, 255]. The ramp leaves no exactly flat 3 x 3 neighbourhood,
    where Qabf's x == 0 test would depend on the rounding of the Sobel sums."""
    rows, cols = np.indices(sharp.shape)
    ramp = 0.037 * rows + 0.011 * cols
    a = sharp.astype(np.float64) * 0.73 + 11.3 + ramp
    b = blurred.astype(np.float64) * 0.9 + 5.1 + ramp
    return a, b, 0.5 * (a + b) + 0.25 * (a - b)


def main() -> None:
    def save(name: str, image: np.ndarray) -> None:
        Image.fromarray(image).save(f"{name}.png")

    gt = skimage.data.camera()[200:297, 150:281]  # 97 x 131, both sizes odd
    near = np.zeros(gt.shape, dtype=bool)
    near[:, :60] = True
    a, b = multifocus(gt, near, 5)
    for tag, image in zip("ABF", (a, b, ((a.astype(np.int64) + b + 1) // 2).astype(np.uint8))):
        save(f"camera_97x131-{tag}", image)

    gt = skimage.data.coins()[100:164, 200:248]  # 64 x 48
    near = np.zeros(gt.shape, dtype=bool)
    near[:32, :] = True
    a, b = multifocus(gt, near, 3)
    for tag, image in zip("ABF", (a, b, np.maximum(a, b))):
        save(f"coins_64x48-{tag}", image)

    text = skimage.data.text()[60:93, 100:157]  # 33 x 57, constant fused image
    a, b = multifocus(text, np.arange(57)[np.newaxis, :] < 28, 3)
    for tag, image in zip("ABF", (a, b, np.full(text.shape, 128, dtype=np.uint8))):
        save(f"text_33x57_constant_fused-{tag}", image)

    coins = skimage.data.coins()
    sharp, blurred = coins[150:225, 150:251], box_blur_u8(coins, 5)[150:225, 150:251]  # 75 x 101
    save("coins_75x101-sharp", sharp)
    save("coins_75x101-blurred", blurred)
    for tag, image in zip("ABF", float_case(sharp, blurred)):
        np.savetxt(f"coins_75x101_float-{tag}.txt", image, fmt="%.17g", delimiter=",")


if __name__ == "__main__":
    main()
