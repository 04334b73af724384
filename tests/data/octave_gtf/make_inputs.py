"""Write the GTF test pairs, deterministic (numpy seed 11): ``blobs`` (48 x 64) and ``odd``
(37 x 53, odd sizes for the border rows/columns), each an infrared-like image (smooth
background, bright targets, sensor noise) and a visible-like one (texture and edges), 8-bit
gray PNG: ``<pair>-IR.png``, ``<pair>-VIS.png``."""

import numpy as np
from PIL import Image
from scipy import ndimage

rng = np.random.default_rng(11)
for name, (h, w) in (("blobs", (48, 64)), ("odd", (37, 53))):
    rows, cols = np.mgrid[0:h, 0:w]
    infrared = 60 + 40 * cols / w + 4 * rng.standard_normal((h, w))
    for _ in range(3):  # warm targets
        r, c, radius = rng.uniform(6, h - 6), rng.uniform(6, w - 6), rng.uniform(3, 7)
        infrared += 140 * np.exp(-((rows - r) ** 2 + (cols - c) ** 2) / (2 * radius**2))
    texture = ndimage.gaussian_filter(rng.random((h, w)), 1.0)
    visible = 90 + 400 * (texture - texture.mean()) + 50 * (cols > w // 2) + 30 * (rows > h // 3)
    for role, image in (("IR", infrared), ("VIS", visible)):
        Image.fromarray(np.clip(np.rint(image), 0, 255).astype(np.uint8)).save(f"{name}-{role}.png")
