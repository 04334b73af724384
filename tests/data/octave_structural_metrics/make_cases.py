"""Write the synthetic test triples <case>-A.png, -B.png, -F.png (8-bit gray) of this folder.

Multi-focus-like content: a smooth random scene (partly clipped at 255, so with flat saturated
areas), sharp on the left in A and on the right in B (Gaussian blur elsewhere), plus cases with
flat regions at different levels in A and B (the SSIM residue case of Qy), odd and tiny sizes,
constant and all-zero images, and identical inputs. Run: python make_cases.py
"""

import numpy as np
from PIL import Image
from scipy import ndimage


def smooth_field(rng, shape, sigma, lo, hi):
    f = ndimage.gaussian_filter(rng.standard_normal(shape), sigma)
    f = (f - f.min()) / (f.max() - f.min())
    return lo + (hi - lo) * f


def blur(x, sigma):
    return ndimage.gaussian_filter(x, sigma, mode="nearest")


def to_u8(x):
    return np.clip(np.floor(x + 0.5), 0, 255).astype(np.uint8)


def multifocus(rng, shape, saturate=True):
    scene = smooth_field(rng, shape, 2.0, -20, 300) + 12 * rng.standard_normal(shape)
    if saturate:
        scene = np.minimum(scene, 255)
    left = np.zeros(shape, bool)
    left[:, : shape[1] // 2] = True
    a = np.where(left, scene, blur(scene, 2.0))
    b = np.where(left, blur(scene, 2.0), scene)
    return a, b, scene


def cases():
    rng = np.random.default_rng(20240601)
    out = {}
    a, b, s = multifocus(rng, (67, 53))
    a[5:20, 3:30] = 255  # saturated block, flat in both sources
    b[5:20, 3:30] = 255
    out["odd_67x53"] = (a, b, (a + b) / 2)

    a, b, s = multifocus(rng, (48, 70))
    out["even_48x70"] = (a, b, np.where(np.abs(a - s) < np.abs(b - s), a, b))

    a, b, s = multifocus(rng, (45, 45))
    a[30:, 20:] = 200  # flat region reaching the last rows and columns
    b[30:, 20:] = 200
    a[:12, :] = 255
    b[:12, :] = 255
    out["flat_45x45"] = (a, b, 0.7 * a + 0.3 * b)

    a, b, s = multifocus(rng, (131, 97))
    out["odd_131x97"] = (a, b, s + 3 * rng.standard_normal(s.shape))

    a, b, s = multifocus(rng, (40, 36))
    out["constF_40x36"] = (a, b, np.full(s.shape, 128.0))

    a, b, s = multifocus(rng, (33, 40))
    out["zeroA_33x40"] = (np.zeros(s.shape), b, b)

    a, b, s = multifocus(rng, (41, 39))
    a[25:, 15:] = 200  # flat in both sources at different levels, up to the last row/column
    b[25:, 15:] = 120
    a[:10, :20] = 255
    b[:10, :20] = 37
    f = (a + b) / 2
    f[:10, :20] = 255
    out["flatdiff_41x39"] = (a, b, f)

    a, b, s = multifocus(rng, (11, 11))
    out["min_11x11"] = (a, b, (a + b) / 2)

    a, b, s = multifocus(rng, (17, 33))
    out["odd_17x33"] = (a, b, a)

    a, b, s = multifocus(rng, (36, 30))
    out["constA_36x30"] = (np.full(s.shape, 90.0), b, (90 + b) / 2)

    a, b, s = multifocus(rng, (30, 44))
    out["zeroB_30x44"] = (a, np.zeros(s.shape), a)

    a, b, s = multifocus(rng, (64, 64), saturate=False)
    out["equal_64x64"] = (s, s, s)
    return out


if __name__ == "__main__":
    for name, images in cases().items():
        for role, image in zip("ABF", images):
            Image.fromarray(to_u8(image)).save(f"{name}-{role}.png")
    print(" ".join(cases()))
