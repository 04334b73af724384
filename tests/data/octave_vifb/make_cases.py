"""Writes the cases of this folder (run from the repository root with the shared data beside it).

* ``lytro03_61x73``: colour crop [200:261, 300:373] of MFIFB's lytro_03-A.jpg, -B.jpg and the
  published DPRL fused image (all three colour: VIFB's per-channel branch).
* ``flir00211_53x67``: crop [100:153, 150:217] of RoadScene FLIR_00211: A = the colour visible
  image, B = the gray infrared image, F = round_half_away((VIS + IR) / 2) per channel (VIFB's
  branch for a gray infrared image with colour visible and fused images).
"""

import numpy as np
from PIL import Image

OUT = "tests/data/octave_vifb/"
DATA = "../shared/datasets/"
RESULTS = "../shared/reference-results/mfifb-lytro/"


def crop(path: str, rows: slice, cols: slice) -> np.ndarray:
    return np.asarray(Image.open(path))[rows, cols]


rows, cols = slice(200, 261), slice(300, 373)
for tag, path in zip("ABF", (DATA + "mfifb/lytro_03-A.jpg", DATA + "mfifb/lytro_03-B.jpg", RESULTS + "lytro_03_DPRL.jpg")):
    Image.fromarray(crop(path, rows, cols)).save(OUT + f"lytro03_61x73-{tag}.png")

rows, cols = slice(100, 153), slice(150, 217)
vis = crop(DATA + "roadscene/FLIR_00211-VIS.jpg", rows, cols)
ir = crop(DATA + "roadscene/FLIR_00211-IR.jpg", rows, cols)
fused = np.floor((vis.astype(float) + ir[..., None]) / 2 + 0.5).astype(np.uint8)
for tag, image in zip("ABF", (vis, ir, fused)):
    Image.fromarray(image).save(OUT + f"flir00211_53x67-{tag}.png")
