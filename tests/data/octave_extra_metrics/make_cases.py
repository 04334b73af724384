"""Writes lytro02_181x197-A/B/F.png: rows 150:331, columns 100:297 of the golden case lytro_02_GFF
(odd sizes at least 176 px, the smallest MS-SSIM accepts). Run from the repository root:

    python tests/data/octave_extra_metrics/make_cases.py ../shared/golden
"""

import sys

import numpy as np
from PIL import Image

golden = sys.argv[1]
for tag in "ABF":
    image = np.asarray(Image.open(f"{golden}/inputs/lytro_02_GFF-{tag}.png"))
    Image.fromarray(image[150:331, 100:297]).save(f"tests/data/octave_extra_metrics/lytro02_181x197-{tag}.png")
