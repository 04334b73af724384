"""Small test cases (odd sizes, other content) for checking MI/NCIE/FMI/SSIM against Octave.
Made only from scikit-image's bundled sample images and synthetic data (nothing from the
shared datasets)."""
import numpy as np
from pathlib import Path
from PIL import Image
from scipy import ndimage
from skimage import data

out = Path(__file__).resolve().parent  # writes <case>-{A,B,F,GT}.png next to this script
rng = np.random.default_rng(20261127)

def save(name, a, b, f, gt):
    for r, im in zip(("A", "B", "F", "GT"), (a, b, f, gt)):
        Image.fromarray(np.asarray(im, np.uint8)).save(out / f"{name}-{r}.png")

def rnd(x):
    return np.floor(np.asarray(x, float) + 0.5).clip(0, 255).astype(np.uint8)

# 1. camera 40x33 multi-focus: A sharp on the left, B sharp on the right, F = hard switch at
#    column 15 (one column off the true boundary 16), GT = sharp crop.
sharp = data.camera()[180:220, 200:233].astype(float)
blur = ndimage.gaussian_filter(sharp, 2.0)
cols = np.arange(33)[None, :]
a = rnd(np.where(cols < 16, sharp, blur)); b = rnd(np.where(cols >= 16, sharp, blur))
save("camera40x33", a, b, np.where(cols < 15, a, b), sharp)
# 2. coins 37x51: A = coins, B = a gamma-compressed, contrast-reduced copy (not full range),
#    F = rounded average, GT = 0.75 A + 0.25 B.
c = data.coins()[100:137, 150:201].astype(float)
a = rnd(c); b = rnd(60 + 120 * (c / 255) ** 0.5)
save("coins37x51", a, b, rnd((a.astype(float) + b) / 2), rnd(0.75 * a + 0.25 * b))
# 3. Random noise 23x29: low-contrast A (90..140), B full range, F = max, GT = B.
a = rng.integers(90, 141, size=(23, 29)); b = rng.integers(0, 256, size=(23, 29))
save("noise23x29", a, b, np.maximum(a, b), b)
# 4. Smooth synthetic 31x45 with a step: blurred left/right halves, F blurred all over (so
#    its edge windows are often empty where the sources' are not), GT = the sharp scene.
y, x = np.mgrid[0:31, 0:45]
truth = 60 + 120 * (x > 20) + 40 * np.sin(y / 3.0)
a = rnd(np.where(x < 22, truth, ndimage.gaussian_filter(truth, 2)))
b = rnd(np.where(x >= 22, truth, ndimage.gaussian_filter(truth, 2)))
save("step31x45", a, b, rnd(ndimage.gaussian_filter(truth, 1.2)), rnd(truth))
# 5. moon 26x19 with an all-black block in A (constant-zero regions, as in CT slices);
#    B = brightened moon, F = rounded average, GT = F (SSIM = 1).
m = data.moon()[200:226, 300:319].astype(float)
a = rnd(m); a[:12, :10] = 0; b = rnd(np.clip(m * 1.4 - 40, 0, 255))
f = rnd((a.astype(float) + b) / 2)
save("moon26x19", a, b, f, f)
