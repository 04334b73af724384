"""Write mask.png: a 37 x 53 binary test mask (blobs of several sizes, thin lines, holes),
deterministic (numpy seed 5)."""

import numpy as np
from PIL import Image
from scipy import ndimage

rng = np.random.default_rng(5)
mask = ndimage.gaussian_filter(rng.random((37, 53)), 1.6) > 0.52
mask[5, 3:30] = True  # a thin line
mask[30:33, 40:42] = True  # a small blob
Image.fromarray(mask.astype(np.uint8) * 255).save("mask.png")
