"""DSIFT, MWGF and IMF: the vectorised code against straight transcriptions of the authors'
MATLAB loops on small inputs, MATLAB/Octave reference outputs of the toolbox functions they
rely on, and the authors' own fused Lytro images (3 pairs per method; all 20 pairs are in
reports/validation/)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

import fusionbench
from fusionbench.metrics._matlab import conv2, filter2, fspecial_gaussian
from methods import dsift, imf, mwgf
from methods._decision_maps import area_open, binary_median, disk_decomposition, matlab_disk

OCTAVE = Path(__file__).parent / "data" / "octave_decision_maps"


def _png(name: str) -> np.ndarray:
    return np.asarray(Image.open(OCTAVE / f"{name}.png"))


def _multifocus(shape=(40, 44), seed=3, color=False) -> tuple[np.ndarray, np.ndarray]:
    """Left part sharp in A, right part sharp in B (float32 8-bit levels)."""
    rng = np.random.default_rng(seed)
    full = shape + ((3,) if color else ())
    sharp = ndimage.gaussian_filter(rng.random(full), (1.0, 1.0, 0)[: len(full)])
    sharp = (sharp - sharp.min()) / (sharp.max() - sharp.min())
    blurred = ndimage.gaussian_filter(sharp, (2.5, 2.5, 0)[: len(full)])
    left = np.zeros(shape, dtype=bool)
    left[:, : shape[1] // 2] = True
    if color:
        left = left[..., np.newaxis]
    a = np.where(left, sharp, blurred)
    b = np.where(left, blurred, sharp)
    return tuple((np.round(x * 255) / 255).astype(np.float32) for x in (a, b))


# --- toolbox functions ---------------------------------------------------------------------


def test_binary_median_matches_octave_medfilt2() -> None:
    mask = _png("mask") > 0
    assert np.array_equal(binary_median(mask, 8), _png("medfilt2_8x8") > 0)
    assert np.array_equal(binary_median(mask, 3), _png("medfilt2_3x3") > 0)


def test_area_open_matches_octave_bwareaopen() -> None:
    mask = _png("mask") > 0
    assert np.array_equal(area_open(mask, 12), _png("bwareaopen_12") > 0)


def test_even_square_erosion_matches_octave_imerode() -> None:
    mask = _png("mask") > 0
    assert np.array_equal(mwgf._erode_square(mask, 6), _png("imerode_square6") > 0)


def test_matlab_disk_is_the_decomposed_octagon() -> None:
    # MATLAB strel('disk', 5) (N = 4): 9 x 9, not the Euclidean disk of radius 5.
    expected = np.ones((9, 9), dtype=bool)
    for k, cut in enumerate((2, 1)):
        for row in (k, 8 - k):
            expected[row, :cut] = expected[row, 9 - cut :] = False
    assert np.array_equal(matlab_disk(5), expected)
    assert matlab_disk(9).shape == (17, 17) and matlab_disk(9).sum() == 249
    # Radii below 3 are exact disks.
    assert matlab_disk(2).sum() == 13


def test_closing_by_parts_equals_closing_by_the_whole_element() -> None:
    rng = np.random.default_rng(1)
    nhood = matlab_disk(9)
    for _ in range(3):
        mask = ndimage.gaussian_filter(rng.random((60, 70)), 3) > 0.5
        whole = ndimage.binary_erosion(
            ndimage.binary_dilation(mask, structure=nhood, border_value=0), structure=nhood, border_value=1
        )
        assert np.array_equal(mwgf._close(mask, disk_decomposition(9)), whole)


# Neighbourhood codes (MATLAB bwlookup weights 1 8 64 / 2 16 128 / 4 32 256) that each of
# the eight lookup tables of bwmorph 'skel' (images.internal.lutskel, R2024a) maps to 0 for
# a foreground centre, read from the tables.
LUTSKEL_DELETED = (
    {89, 91, 217, 219},
    {152, 153, 216, 217, 408, 409, 472, 473},
    {23, 31, 55, 63},
    {26, 27, 30, 31, 90, 91, 94, 95},
    {464, 472, 496, 504},
    {50, 51, 54, 55, 306, 307, 310, 311},
    {308, 310, 436, 438},
    {176, 180, 240, 244, 432, 436, 496, 500},
)


def test_thinning_templates_are_matlabs_skel_tables() -> None:
    weights = np.array([[1, 8, 64], [2, 16, 128], [4, 32, 256]])
    for template, deleted in zip(imf._THINNING_TEMPLATES, LUTSKEL_DELETED):
        codes = set()
        for code in range(512):
            bits = (code & weights) > 0
            if bits[1, 1] and all(
                want == -1 or bits[dy, dx] == bool(want) for dy, row in enumerate(template) for dx, want in enumerate(row)
            ):
                codes.add(code)
        assert codes == deleted


def test_thinning_keeps_objects_connected_and_stops() -> None:
    rng = np.random.default_rng(8)
    mask = ndimage.gaussian_filter(rng.random((40, 40)), 2.5) > 0.5
    thin = imf._thin(mask, 100)
    assert (thin <= mask).all() and thin.sum() < mask.sum() / 2
    eight = np.ones((3, 3))
    assert ndimage.label(thin, structure=eight)[1] == ndimage.label(mask, structure=eight)[1]
    assert np.array_equal(imf._thin(thin, 1), thin)


# --- DSIFT ---------------------------------------------------------------------------------


def _dense_sift_transcribed(gray: np.ndarray, scale: int) -> np.ndarray:
    """DenseSIFT(img_extend(gray, scale/4 - 1), scale/2, 1) written as the MATLAB code is."""
    patch = scale // 2
    image = np.pad(gray, scale // 4 - 1)
    image = image / image.max()
    g = fspecial_gaussian(5, 1.0)
    gx, gy = np.gradient(g, axis=1), np.gradient(g, axis=0)
    gx, gy = gx * 2 / np.abs(gx).sum(), gy * 2 / np.abs(gy).sum()
    vertical, horizontal = filter2(gx, image), filter2(gy, image)
    magnitude = np.sqrt(vertical**2 + horizontal**2)
    theta = np.arctan2(horizontal, vertical)
    weight_x = np.abs(np.arange(1, patch + 1) - (patch / 2 - 0.5)) / (patch / 4)
    weight_x = (1 - weight_x) * (weight_x <= 1)
    kernel = np.outer(weight_x, weight_x)
    channels = []
    for k in range(8):
        angle = 2 * np.pi * k / 8
        tmp = (np.cos(theta) * np.cos(angle) + np.sin(theta) * np.sin(angle)) ** 9
        channels.append(conv2(tmp * (tmp > 0) * magnitude, kernel, "same"))
    rows, cols = image.shape
    loc_x = np.arange(patch // 2, cols - patch // 2 + 2)  # 1-based
    loc_y = np.arange(patch // 2, rows - patch // 2 + 2)
    sample = np.linspace(1, patch + 1, 5)[:4].astype(int) - patch // 2
    out = np.zeros((loc_y.size, loc_x.size, 128))
    n = 0
    for sx in sample:  # meshgrid(:) order: x outer, y inner
        for sy in sample:
            for k in range(8):
                out[:, :, n * 8 + k] = channels[k][np.ix_(loc_y + sy - 1, loc_x + sx - 1)]
            n += 1
    return out


def _normalise_transcribed(desc: np.ndarray) -> np.ndarray:
    out = desc.copy()
    norms = np.sqrt((desc**2).sum(-1))
    big = norms > 1
    normed = np.minimum(desc[big] / norms[big, None], 0.2)
    out[big] = normed / np.sqrt((normed**2).sum(-1))[:, None]
    return out


def _dsift_map_transcribed(gray_a, gray_b, scale, blocksize, area, r=3):
    """generate_initmap.m + refine_withmatching.m, loop by loop."""
    d_a, d_b = _dense_sift_transcribed(gray_a, scale), _dense_sift_transcribed(gray_b, scale)
    s1, s2 = d_a.sum(-1), d_b.sum(-1)
    h, w = s1.shape
    score1, score2, count = np.zeros((h, w)), np.zeros((h, w)), np.zeros((h, w))
    for x in range(w - blocksize + 1):
        for y in range(h - blocksize + 1):
            win = np.s_[y : y + blocksize, x : x + blocksize]
            a, b = s1[win].sum(), s2[win].sum()
            score1[win] += a > b
            score2[win] += b > a
            count[win] += 1
    count[count < 1] = 1
    maps = []
    for score in (score1, score2):
        temp = area_open(score / count > 0.99, area)
        maps.append(1.0 - area_open(~temp, area))
    fusion = maps[0] + 0.5 * (1 - maps[0] - maps[1])
    n_a, n_b = _normalise_transcribed(d_a), _normalise_transcribed(d_b)

    def sf(img, y, x):
        block = img[y - r : y + r + 1, x - r : x + r + 1]
        rows = ((block[1:] - block[:-1]) ** 2).sum() / block.size
        cols = ((block[:, 1:] - block[:, :-1]) ** 2).sum() / block.size
        return np.sqrt(rows + cols)

    refined = fusion.copy()
    for j in range(r, h - r):
        for i in range(r, w - r):
            if fusion[j, i] != 0.5:
                continue
            dis1 = ((n_b[j - r : j + r + 1, i - r : i + r + 1] - n_a[j, i]) ** 2).sum(-1)
            dis2 = ((n_a[j - r : j + r + 1, i - r : i + r + 1] - n_b[j, i]) ** 2).sum(-1)
            m1 = np.argwhere(dis1.T == dis1.min())[0][::-1]  # find(): column-major first
            m2 = np.argwhere(dis2.T == dis2.min())[0][::-1]
            p12, p21 = (j - r + m1[0], i - r + m1[1]), (j - r + m2[0], i - r + m2[1])
            if not all(r <= p[0] < h - r and r <= p[1] < w - r for p in (p12, p21)):
                continue
            fm1, fm12 = sf(gray_a, j, i), sf(gray_b, *p12)
            fm2, fm21 = sf(gray_b, j, i), sf(gray_a, *p21)
            if fm1 > fm12 and fm2 < fm21:
                refined[j, i] = 1
            if fm1 < fm12 and fm2 > fm21:
                refined[j, i] = 0
    return refined


def test_dense_sift_equals_the_transcription() -> None:
    a, _ = _multifocus((26, 30))
    gray = a.astype(np.float64) * 255
    sift = dsift._DenseSift(gray, 16)
    expected = _dense_sift_transcribed(gray, 16)
    np.testing.assert_allclose(sift.activity(), expected.sum(-1), rtol=1e-5)
    rows, cols = np.nonzero(np.ones(gray.shape, dtype=bool))
    np.testing.assert_allclose(
        sift.descriptors(rows, cols), _normalise_transcribed(expected).reshape(-1, 128), rtol=1e-4, atol=1e-6
    )


def test_dsift_decision_map_equals_the_transcription() -> None:
    a, b = _multifocus((40, 44))
    method = fusionbench.create_method("dsift", scale=16, blocksize=4, min_region=40)
    ours = method.decision_map(a, b)
    expected = _dsift_map_transcribed(a * 255.0, b * 255.0, scale=16, blocksize=4, area=40)
    assert 0 < (ours == 0.5).sum() < ours.size / 4  # decided, refined and undecided pixels
    np.testing.assert_array_equal(ours, expected)


# --- MWGF ----------------------------------------------------------------------------------


def test_reconstruction_clipping_every_step_equals_the_explicit_loop() -> None:
    rng = np.random.default_rng(2)
    start = np.clip(ndimage.gaussian_filter(rng.random((2, 23, 31)), (0, 2, 2)) * 300, 0, 255)
    target = rng.standard_normal((2, 23, 31)) * 20
    f = start.copy()
    for _ in range(40):
        p = np.pad(f, ((0, 0), (1, 1), (1, 1)), mode="edge")
        lap = p[:, :-2, 1:-1] + p[:, 2:, 1:-1] + p[:, 1:-1, :-2] + p[:, 1:-1, 2:] - 4 * f
        f = np.clip(f + 0.1 * (lap - target), 0, 255)
    np.testing.assert_allclose(mwgf._reconstruct(start, target, 40, 1), f, atol=1e-9)
    # Blocks of linear steps: exact when nothing is clipped in between.
    inside = start * 0.5 + 60
    small_target = target * 0.01
    g = inside.copy()
    for _ in range(40):
        p = np.pad(g, ((0, 0), (1, 1), (1, 1)), mode="edge")
        g = g + 0.1 * (p[:, :-2, 1:-1] + p[:, 2:, 1:-1] + p[:, 1:-1, :-2] + p[:, 1:-1, 2:] - 4 * g - small_target)
    np.testing.assert_allclose(mwgf._reconstruct(inside, small_target, 40, 25), g, atol=1e-9)


def test_imresize_quarter_reproduces_ramps_away_from_the_border() -> None:
    # MATLAB imresize maps output u (1-based) to input x = u / s + (1 - 1/s) / 2; its
    # antialiased bicubic weights are symmetric about x, so a linear ramp is reproduced.
    ramp = np.add.outer(np.arange(64.0) * 0.5, np.arange(72.0) * 2.0)
    small = mwgf._imresize(ramp, 0.25)
    assert small.shape == (16, 18)
    u = np.arange(1, 17)
    x = u / 0.25 + 0.5 * (1 - 1 / 0.25)  # 1-based input coordinate
    expected_rows = (x - 1) * 0.5
    np.testing.assert_allclose(small[3:-3, 5] - small[3:-3, 4], 2.0 * 4, rtol=1e-12)
    np.testing.assert_allclose(small[3:-3, 0] - small[3, 0], expected_rows[3:-3] - expected_rows[3], rtol=1e-12)
    np.testing.assert_allclose(mwgf._imresize(np.full((30, 41), 7.0), 0.25), 7.0)


def test_border_bands_are_removed_as_deleteline_does() -> None:
    # DeleteLine clears a run from the first row when its first zero is at 1-based row < 13
    # (runs of up to 11), and a run to the last row when it is shorter than 13 (up to 12).
    mask = np.zeros((40, 30), dtype=bool)
    mask[:11, 3] = True  # removed
    mask[:12, 5] = True  # kept
    mask[28:, 7] = True  # 12 to the bottom edge: removed
    mask[27:, 9] = True  # 13: kept
    mask[10:20, 11] = True  # not touching the border: kept
    out = mwgf._delete_border_bands(mask)
    assert not out[:, 3].any() and not out[:, 7].any()
    for col in (5, 9, 11):
        assert np.array_equal(out[:, col], mask[:, col])


# --- IMF -----------------------------------------------------------------------------------


def test_matting_laplacian_equals_getlaplacian1_loops() -> None:
    rng = np.random.default_rng(4)
    image = rng.random((9, 11, 3))
    known = np.zeros((9, 11))
    known[:, :3] = 1
    known[6:, 8:] = 1
    eps = 1e-7
    h, w, c = image.shape
    consts = ndimage.binary_erosion(known > 0, structure=np.ones((3, 3)), border_value=1)
    expected = np.zeros((h * w, h * w))
    for j in range(1, w - 1):
        for i in range(1, h - 1):
            if consts[i, j]:
                continue
            idx = [(i + dy) * w + (j + dx) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
            win = np.array([image[i + dy, j + dx] for dx in (-1, 0, 1) for dy in (-1, 0, 1)])
            mu = win.mean(0)
            var = np.linalg.inv(win.T @ win / 9 - np.outer(mu, mu) + eps / 9 * np.eye(c))
            centred = win - mu
            expected[np.ix_(idx, idx)] += (1 + centred @ var @ centred.T) / 9
    expected = np.diag(expected.sum(1)) - expected
    laplacian, coupled = imf._matting_laplacian(image, known, eps)
    np.testing.assert_allclose(laplacian.toarray(), expected, rtol=1e-7, atol=1e-9)
    assert set(coupled) == set(np.flatnonzero(np.abs(expected).sum(1) > 0))


def test_linear_coefficients_and_upsampling_equal_the_matlab_loops() -> None:
    rng = np.random.default_rng(6)
    image = rng.random((7, 8, 3))
    alpha = rng.random((7, 8))
    eps = 1e-7
    h, w, c = image.shape
    expected = np.zeros((h, w, c + 1))
    for j in range(1, w - 1):
        for i in range(1, h - 1):
            win = image[i - 1 : i + 2, j - 1 : j + 2].transpose(1, 0, 2).reshape(9, c)
            g = np.vstack([np.hstack([win, np.ones((9, 1))]), np.hstack([np.sqrt(eps) * np.eye(c), np.zeros((c, 1))])])
            rhs = np.concatenate([alpha[i - 1 : i + 2, j - 1 : j + 2].T.ravel(), np.zeros(c)])
            expected[i, j] = np.linalg.inv(g.T @ g) @ g.T @ rhs
    expected[0], expected[-1] = expected[1], expected[-2]
    expected[:, 0], expected[:, -1] = expected[:, 1], expected[:, -2]
    coeff = imf._linear_coefficients(alpha, image, eps)
    np.testing.assert_allclose(coeff, expected, rtol=1e-6, atol=1e-8)

    # upSmpIm(coeff, [16 17]) with MATLAB's 1-based index arithmetic.
    new_h, new_w = 16, 17
    i_d, i_u = (new_h - 2 * h + 1) // 2, -((-(new_h - 2 * h + 1)) // 2)
    j_d, j_u = (new_w - 2 * w + 1) // 2, -((-(new_w - 2 * w + 1)) // 2)
    big = np.zeros((new_h + 2, new_w + 2, c + 1))
    big[i_d + 1 : new_h + 2 - i_u - 1 : 2, j_d + 1 : new_w + 2 - j_u - 1 : 2] = coeff  # (id+2:2:end-iu-1) - 1
    for row in range(i_d - 1, -1, -2):
        big[row] = big[i_d + 1]
    for row in range(new_h + 2 - i_u, new_h + 2, 2):
        big[row] = big[new_h + 2 - i_u - 2]
    for col in range(j_d - 1, -1, -2):
        big[:, col] = big[:, j_d + 1]
    for col in range(new_w + 2 - j_u, new_w + 2, 2):
        big[:, col] = big[:, new_w + 2 - j_u - 2]
    filt = np.outer([0.5, 1, 0.5], [0.5, 1, 0.5])
    big = np.stack([conv2(big[..., k], filt, "same") for k in range(c + 1)], axis=2)
    np.testing.assert_allclose(imf._upsample_coefficients(coeff, new_h, new_w), big[1:-1, 1:-1], rtol=1e-12)


def test_matte_follows_the_trimap_and_an_edge() -> None:
    a, b = _multifocus((48, 52), color=True)
    method = fusionbench.create_method("imf")
    trimap = method.trimap(a, b)
    alpha = method.alpha_matte(a, b)
    # Constraints only on the correct side (the median filters leave a border band unknown).
    assert not (trimap[:, :20] == 0).any() and not (trimap[:, -20:] == 1).any()
    assert (trimap[:, :20] == 1).mean() > 0.5 and (trimap[:, -20:] == 0).mean() > 0.5
    assert alpha[:, :20].mean() > 0.95 and alpha[:, -20:].mean() < 0.05


def test_identical_sources_give_the_source_back() -> None:
    # (Not MWGF: its gradient target zeroes the 1-pixel frame, so the reconstruction drifts
    # from the source near the border; the authors' code stops with an error on such a pair.)
    a, _ = _multifocus((32, 36), color=True)
    for name in ("dsift", "imf"):
        fused = fusionbench.create_method(name).fuse(a, a)
        np.testing.assert_allclose(fused, a, atol=1.5 / 255, err_msg=name)


# --- the authors' outputs --------------------------------------------------------------------

# Mean PSNR over lytro_01..03 of the current code: DSIFT 51.3, MWGF 50.6, IMF 48.4 dB; the
# issue asks for 30 dB. Unrelated methods score 36-44 dB against these files, so the bounds
# below also require the reimplementations to be faithful.
VALIDATION = [("dsift", "DSIFT", 48.0), ("mwgf", "MWGF", 47.0), ("imf", "IFM", 45.0)]


@pytest.mark.needs_data
@pytest.mark.parametrize("name,reference,bound", VALIDATION, ids=[v[0] for v in VALIDATION])
def test_reproduces_the_authors_outputs(
    name: str, reference: str, bound: float, data_dir: Path, reference_results_dir: Path
) -> None:
    from fusionbench.validation import compare_with_reference

    rows = compare_with_reference(
        fusionbench.create_method(name),
        data_dir / "mfifb",
        reference_results_dir / "mfifb-lytro",
        f"{{pair}}_{reference}.jpg",
        ("lytro_01", "lytro_02", "lytro_03"),
    )
    psnr = np.array([r.psnr_db for r in rows])
    assert psnr.mean() >= 30.0
    assert psnr.mean() >= bound, [(r.pair, round(r.psnr_db, 2)) for r in rows]
