"""Local structural-similarity fusion metrics: Piella's Qs, Qw, Qe, Cvejic's Qcvejic, Yang's Qy.

All five compare the fused image with each source through a local similarity map (Wang & Bovik's
universal image quality index, UIQI, or SSIM with tiny constants) and weight the two maps by the
sources' local variances. Definitions follow the MATLAB files of Liu et al.'s MFIF-Metrics
(``fusion-metrics/metricPeilla.m`` with ``ssim_index.m``, ``metricCvejic.m``, ``metricYang.m``),
the reference code of the golden values. Shared conventions:

* **Local statistics**: ``filter2(window, ., 'valid')`` - the maps are ``(H - n + 1) x
  (W - n + 1)``, no border padding. Windows: 8 x 8 uniform (Piella, Cvejic) or 7 x 7 Gaussian,
  sigma 1.5 (Yang; ``fspecial('gaussian', 7, 1.5)`` normalised again by its sum). Variances and
  covariances are ``E[xy] - E[x]E[y]`` (biased, as the reference).
* **Similarity map** of images x, y: ``((2 mu_x mu_y + C1)(2 s_xy + C2)) /
  ((mu_x^2 + mu_y^2 + C1)(s_x + s_y + C2))``; ``C1 = C2 = (1e-6 * 255)^2`` for Piella (SSIM
  degraded to UIQI), ``C1 = C2 = 2e-16`` for Cvejic and Yang.
* **Flat windows**: where both images are constant over a window, the true variances are 0 and the
  reference's ``s_x``, ``s_y``, ``s_xy`` are floating-point residues of ``E[x^2] - E[x]^2``; with
  ``C2 = 2e-16`` the similarity there is a ratio of residues (values up to ~1e5 occur in flat,
  saturated regions and enter Qy). To reproduce those values, local means over flat windows are
  recomputed with the exact summation order of GNU Octave's ``conv2`` (see
  :func:`~fusionbench.metrics._matlab.filter2_valid_flat`); elsewhere a fast separable filter is
  used (it differs from Octave only by rounding, ~1e-16 relative).
* Minimum size: 8 x 8 for Piella (the window), 11 x 11 for Cvejic and Yang (``ssim_yang``
  refuses smaller images).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage

from ._matlab import filter2_valid_flat, fspecial_gaussian, sum_sum
from ._shared import parallel_map
from .inputs import MetricInputs
from .registry import register_metric

__all__ = ["qs", "qw", "qe", "qcvejic", "qy", "prewitt_magnitude"]

_PIELLA_C = (1e-6 * 255.0) ** 2  # ssim_index's (K * L)^2 with K = [1e-6 1e-6], L = 255
_SSIM_YANG_C = 2e-16  # ssim_yang's C1 = C2 in metricYang.m and metricCvejic.m


class _Window:
    """A normalised 2-D window (``window / sum(sum(window))`` as the reference computes it) and
    a 1-D factor ``f`` with ``outer(f, f) * scale`` equal to it up to rounding, for fast
    separable filtering."""

    def __init__(self, name: str, weights: np.ndarray, factor: np.ndarray, scale: float) -> None:
        self.name = name
        self.weights = weights
        self.factor = factor
        self.scale = scale
        self.size = weights.shape[0]


def _box8() -> _Window:
    ones = np.ones((8, 8))
    # Sums of integers are exact, and scaling by 1/64 is exact, so on integer images the fast
    # path equals Octave's sum of (1/64) * x bit for bit.
    return _Window("box8", ones / sum_sum(ones), np.ones(8), 1.0 / 64.0)


def _gauss7() -> _Window:
    window = fspecial_gaussian(7, 1.5)
    window = window / sum_sum(window)
    return _Window("gauss7", window, window.sum(axis=0), 1.0)


_BOX8 = _box8()
_GAUSS7 = _gauss7()


def prewitt_magnitude(image: np.ndarray) -> np.ndarray:
    """Gradient magnitude with the Prewitt masks of ``metricPeilla.m`` (option 3):
    ``sqrt(filter2([1 0 -1; 1 0 -1; 1 0 -1], I)^2 + filter2([1 1 1; 0 0 0; -1 -1 -1], I)^2)``,
    'same' size, zero outside the image."""
    padded = np.pad(np.asarray(image, dtype=np.float64), 1)
    rows = padded[:-2] + padded[1:-1] + padded[2:]  # 3-row sums, (H, W + 2)
    cols = padded[:, :-2] + padded[:, 1:-1] + padded[:, 2:]  # 3-column sums, (H + 2, W)
    gx = rows[:, :-2] - rows[:, 2:]
    gy = cols[:-2] - cols[2:]
    return np.sqrt(gx * gx + gy * gy)


def _image(x: MetricInputs, name: str) -> np.ndarray:
    """A source image by role, or ``"prewitt:<role>"`` for its Prewitt magnitude."""
    if name.startswith("prewitt:"):
        role = name.split(":", 1)[1]
        return x.cached(("prewitt_magnitude", role), lambda: prewitt_magnitude(x.image(role)))
    return x.image(name)


def _filter_valid(image: np.ndarray, window: _Window, integer_valued: bool) -> np.ndarray:
    """Fast ``filter2(window, image, 'valid')``: two 1-D passes. For the uniform window on an
    integer-valued image, running sums (exact on integers, and the two divisions by 8 are exact)."""
    n = window.size
    start = n // 2
    rows = slice(start, image.shape[0] - n + start + 1)
    cols = slice(start, image.shape[1] - n + start + 1)
    if window is _BOX8 and integer_valued:
        out = ndimage.uniform_filter1d(image, n, axis=0, mode="constant")[rows]
        return ndimage.uniform_filter1d(out, n, axis=1, mode="constant")[:, cols]
    out = ndimage.correlate1d(image, window.factor, axis=0, mode="constant")[rows]
    out = ndimage.correlate1d(out, window.factor, axis=1, mode="constant")[:, cols]
    if window.scale != 1.0:
        out *= window.scale
    return out


def _flat_windows(x: MetricInputs, window: _Window, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Linear indices (into the 'valid' map) of the windows over which image ``name`` is
    constant and non-zero, and that constant. Zero windows are left out: every summation order
    gives exactly 0 there."""

    def compute() -> tuple[np.ndarray, np.ndarray]:
        image = _image(x, name)
        _, second, variance = _fast_moments(x, window, name)
        # Flat windows have |E[x^2] - E[x]^2| of a few ulps of E[x^2] (and all-zero windows
        # fail the strict test); the loose bound only selects candidates, checked exactly.
        candidates = np.flatnonzero(np.abs(variance) < 1e-12 * second)
        if candidates.size == 0:
            return candidates, np.empty(0)
        rows, cols = np.unravel_index(candidates, variance.shape)
        windows = sliding_window_view(image, (window.size, window.size))
        flat = np.empty(candidates.size, dtype=bool)
        for start in range(0, candidates.size, 16384):  # bounded memory for large flat areas
            part = slice(start, start + 16384)
            patches = windows[rows[part], cols[part]]
            flat[part] = np.all(patches == patches[:, :1, :1], axis=(1, 2))
        return candidates[flat], image[rows[flat], cols[flat]]

    return x.cached(("flat_windows", window.name, name), compute)


def _fast_moments(x: MetricInputs, window: _Window, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fast local mean, mean of squares and variance of one image."""

    def compute() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        image = _image(x, name)
        integer_valued = _is_integer_valued(x, name)
        mu = _filter_valid(image, window, integer_valued)
        second = _filter_valid(image * image, window, integer_valued)
        return mu, second, second - mu * mu

    return x.cached(("fast_moments", window.name, name), compute)


def _group(name: str) -> tuple[str, str, str]:
    """The three images whose flat windows are recomputed together with ``name``'s."""
    if name.startswith("prewitt:"):
        return ("prewitt:a", "prewitt:b", "prewitt:fused")
    return ("a", "b", "fused")


def _is_integer_valued(x: MetricInputs, name: str) -> bool:
    def compute() -> bool:
        image = _image(x, name)
        return bool(np.array_equal(image, np.floor(image)))

    return x.cached(("integer_valued", name), compute)


_Patch = tuple[np.ndarray, np.ndarray]  # linear indices into a 'valid' map, values there


def _exact_flat_sums(
    x: MetricInputs, window: _Window, group: tuple[str, ...]
) -> dict[tuple[str, ...], _Patch]:
    """Octave-exact local sums over the flat windows of a group of images: for each image
    ``("mean", name)`` and ``("second", name)`` (of x and x^2), for each pair
    ``("cross", name1, name2)`` (of x y, where both are flat). Empty when the fast path is
    already exact: the uniform window on integer images sums integers, and scales by 1/64."""

    def compute() -> dict[tuple[str, ...], _Patch]:
        if window is _BOX8 and all(_is_integer_valued(x, name) for name in group):
            return {}
        requests: list[tuple[tuple[str, ...], np.ndarray, np.ndarray]] = []
        for name in group:
            where, value = _flat_windows(x, window, name)
            requests.append((("mean", name), where, value))
            requests.append((("second", name), where, value * value))
        for name1, name2 in combinations(sorted(group), 2):
            where1, value1 = _flat_windows(x, window, name1)
            where2, value2 = _flat_windows(x, window, name2)
            both, at1, at2 = np.intersect1d(where1, where2, assume_unique=True, return_indices=True)
            requests.append((("cross", name1, name2), both, value1[at1] * value2[at2]))
        # One accumulation for all of them (its cost is per distinct value, plus overhead).
        sums = filter2_valid_flat(window.weights, np.concatenate([values for _, _, values in requests]))
        patches: dict[tuple[str, ...], _Patch] = {}
        start = 0
        for key, where, values in requests:
            patches[key] = (where, sums[start : start + values.size])
            start += values.size
        return patches

    return x.cached(("exact_flat_sums", window.name, group), compute)


def _patched(x: MetricInputs, window: _Window, fast: np.ndarray, key: tuple[str, ...]) -> np.ndarray:
    """``fast`` (a copy) with the Octave-exact sums over flat windows put in."""
    patch = _exact_flat_sums(x, window, _group(key[1])).get(key)
    if patch is None:
        return fast
    fast = fast.copy()
    fast.flat[patch[0]] = patch[1]
    return fast


def _moments(x: MetricInputs, window: _Window, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Local mean and variance of one image, as ``ssim_index`` / ``ssim_yang`` compute them."""

    def compute() -> tuple[np.ndarray, np.ndarray]:
        fast_mu, fast_second, fast_variance = _fast_moments(x, window, name)
        patches = _exact_flat_sums(x, window, _group(name))
        if ("mean", name) not in patches or patches[("mean", name)][0].size == 0:
            return fast_mu, fast_variance
        mu = _patched(x, window, fast_mu, ("mean", name))
        second = _patched(x, window, fast_second, ("second", name))
        return mu, second - mu * mu

    return x.cached(("local_moments", window.name, name), compute)


def _fast_product(x: MetricInputs, window: _Window, name1: str, name2: str) -> np.ndarray:
    """Fast local mean of the product of two images (names in sorted order)."""

    def compute() -> np.ndarray:
        integer_valued = _is_integer_valued(x, name1) and _is_integer_valued(x, name2)
        return _filter_valid(_image(x, name1) * _image(x, name2), window, integer_valued)

    return x.cached(("fast_product", window.name, name1, name2), compute)


_PIELLA_GROUPS = (("a", "b", "fused"), ("prewitt:a", "prewitt:b", "prewitt:fused"))


def _prefetch(x: MetricInputs, window: _Window, *groups: tuple[str, ...], pairs: str = "fused") -> None:
    """Compute the fast local sums of the groups' images and of products of them (``pairs``:
    "fused" = each source with the fused image, "all" = every pair) in the metrics' thread
    pool; each result is cached as usual, and values do not depend on the threads."""
    names = [name for group in groups for name in group]
    # The images (e.g. Prewitt magnitudes) and their integer test first: the jobs share them.
    parallel_map(lambda name: _is_integer_valued(x, name), names)
    jobs = [lambda name=name: _fast_moments(x, window, name) for name in names]
    for a, b, fused in groups:
        products = [(a, b), (a, fused), (b, fused)] if pairs == "all" else [(a, fused), (b, fused)]
        jobs += [lambda pair=pair: _fast_product(x, window, *sorted(pair)) for pair in products]
    parallel_map(lambda job: job(), jobs)


def _covariance(x: MetricInputs, window: _Window, name1: str, name2: str) -> np.ndarray:
    """Local covariance ``filter2(w, x.*y, 'valid') - mu_x .* mu_y``."""
    name1, name2 = sorted((name1, name2))

    def compute() -> np.ndarray:
        product = _patched(x, window, _fast_product(x, window, name1, name2), ("cross", name1, name2))
        mu1 = _moments(x, window, name1)[0]
        mu2 = _moments(x, window, name2)[0]
        return product - mu1 * mu2

    return x.cached(("local_covariance", window.name, name1, name2), compute)


def _similarity_map(x: MetricInputs, window: _Window, c: float, name1: str, name2: str) -> np.ndarray:
    """The SSIM map of ``ssim_index`` / ``ssim_yang`` with ``C1 = C2 = c`` (symmetric in the
    two images, bit for bit)."""

    def compute() -> np.ndarray:
        mu1, var1 = _moments(x, window, name1)
        mu2, var2 = _moments(x, window, name2)
        cov = _covariance(x, window, name1, name2)
        # ((2 mu1 mu2 + C1) (2 s12 + C2)) / ((mu1^2 + mu2^2 + C1) (s1 + s2 + C2)), in place.
        numerator = mu1 * mu2
        numerator *= 2
        numerator += c
        factor = cov * 2
        factor += c
        numerator *= factor
        denominator = mu1 * mu1
        denominator += np.multiply(mu2, mu2, out=factor)
        denominator += c
        np.add(var1, var2, out=factor)
        factor += c
        denominator *= factor
        numerator /= denominator
        return numerator

    key = ("ssim_map", window.name, c, *sorted((name1, name2)))
    return x.cached(key, compute)


def _check_size(x: MetricInputs, metric: str, minimum: int) -> None:
    rows, cols = x.fused.shape
    if rows < minimum or cols < minimum:
        raise ValueError(
            f"{metric}: images are {rows}x{cols}; the reference needs at least {minimum}x{minimum} pixels"
        )


def _source_weight(var1: np.ndarray, var2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``lambda = s1 / (s1 + s2)`` after adding 0.5 to both where ``s1 + s2 == 0`` (the
    reference's guard against 0/0); returns ``(lambda, s1', s2')``."""
    guard = (var1 + var2 == 0) * 0.5
    var1 = var1 + guard
    var2 = var2 + guard
    return var1 / (var1 + var2), var1, var2


def _piella(x: MetricInputs, a: str, b: str, fused: str, weighted: bool) -> float:
    """Piella's fusion quality index on (a, b, fused): plain mean, or weighted by
    ``max(s_a, s_b)`` over the map."""

    def compute() -> tuple[np.ndarray, np.ndarray]:
        _prefetch(x, _BOX8, (a, b, fused))
        _, var_a = _moments(x, _BOX8, a)
        _, var_b = _moments(x, _BOX8, b)
        weight_a, var_a, var_b = _source_weight(var_a, var_b)
        quality = weight_a * _similarity_map(x, _BOX8, _PIELLA_C, fused, a) + (
            1 - weight_a
        ) * _similarity_map(x, _BOX8, _PIELLA_C, fused, b)
        return quality, np.maximum(var_a, var_b)

    quality, saliency = x.cached(("piella_map", a, b, fused), compute)
    if not weighted:
        return float(np.mean(quality))
    return float(np.sum(saliency / np.sum(saliency) * quality))


@register_metric(
    "Qw",
    aliases=["QW"],
    needs=("a", "b", "fused"),
    higher_is_better=True,
    range=(-1, 1),
    reference="Piella & Heijmans 2003 (weighted fusion quality index); MFIF-Metrics metricPeilla.m, option 2",
)
def qw(x: MetricInputs) -> float:
    """Piella's weighted fusion quality index: the map of :func:`qs` averaged with weights
    c(w) = max(s_a, s_b) / sum max(s_a, s_b) (local variances after the s_a + s_b = 0 guard).

    ``metricPeilla(A, B, F, 2)`` (MFIF-Metrics' QW). Piella & Heijmans, ICIP 2003. Range
    [-1, 1], 1 = best."""
    _check_size(x, "Qw", 8)
    return _piella(x, "a", "b", "fused", weighted=True)


@register_metric(
    "Qy",
    aliases=["QY", "Qyang"],
    needs=("a", "b", "fused"),
    higher_is_better=True,
    range=(-np.inf, np.inf),
    reference="Yang et al. 2008 (SSIM-based fusion metric); MFIF-Metrics metricYang.m",
)
def qy(x: MetricInputs) -> float:
    """Yang's metric: per window, if SSIM(a, b) >= 0.75, lambda SSIM(a, f) + (1 - lambda)
    SSIM(b, f) with lambda = s_a / (s_a + s_b) (1/2 where s_a + s_b = 0), else
    max(SSIM(a, f), SSIM(b, f)); averaged over the map.

    SSIM of ``ssim_yang``: 7x7 Gaussian window (sigma 1.5), 'valid' maps, C1 = C2 = 2e-16.
    ``metricYang(A, B, F)``. C. Yang, J. Zhang, X. Wang, X. Liu, "A novel similarity based quality
    metric for image fusion", Information Fusion 9 (2008) 156-160. Usually in [0, 1] (1 = best),
    but in flat windows the SSIM is a ratio of rounding residues and can be far outside."""
    _check_size(x, "Qy", 11)
    _prefetch(x, _GAUSS7, ("a", "b", "fused"), pairs="all")
    ssim_ab = _similarity_map(x, _GAUSS7, _SSIM_YANG_C, "a", "b")
    ssim_af = _similarity_map(x, _GAUSS7, _SSIM_YANG_C, "a", "fused")
    ssim_bf = _similarity_map(x, _GAUSS7, _SSIM_YANG_C, "b", "fused")
    _, var_a = _moments(x, _GAUSS7, "a")
    _, var_b = _moments(x, _GAUSS7, "b")
    weight_a = _source_weight(var_a, var_b)[0]
    similar = ssim_ab >= 0.75
    # Products with the 0/1 masks (not np.where) keep the reference's NaN propagation;
    # fmax ignores NaN like MATLAB's max.
    quality = (weight_a * ssim_af + (1 - weight_a) * ssim_bf) * similar + np.fmax(ssim_af, ssim_bf) * ~similar
    return float(np.mean(quality))


@register_metric(
    "Qcvejic",
    aliases=["Q_cvejic"],
    needs=("a", "b", "fused"),
    higher_is_better=True,
    range=(-1, 1),
    reference="Cvejic et al. 2005 (similarity-based metric); MFIF-Metrics metricCvejic.m, option 2",
)
def qcvejic(x: MetricInputs) -> float:
    """Cvejic's metric: mean of sim * SSIM(a, f) + (1 - sim) * SSIM(b, f), with
    sim = s_af / (s_af + s_bf) clipped to [0, 1] (local covariances with the fused image;
    sim = 1/2 where that is 0/0).

    SSIM of ``ssim_yang``: 8x8 uniform windows, 'valid' maps, C1 = C2 = 2e-16 (so in flat windows
    it is a ratio of rounding residues). ``metricCvejic(A, B, F, 2)`` (MFIF-Metrics' QC). N.
    Cvejic, A. Loza, D. Bull, N. Canagarajah, "A similarity metric for assessment of image fusion
    algorithms", Int. J. Signal Processing 2(3), 2005. Range [-1, 1], 1 = best, for 8-bit inputs
    (their 8x8 mean statistics are exact); for other inputs a flat window can give a ratio of
    rounding residues outside it."""
    _check_size(x, "Qcvejic", 11)
    _prefetch(x, _BOX8, ("a", "b", "fused"))
    cov_a = _covariance(x, _BOX8, "a", "fused")
    cov_b = _covariance(x, _BOX8, "b", "fused")
    ssim_a = _similarity_map(x, _BOX8, _SSIM_YANG_C, "a", "fused")
    ssim_b = _similarity_map(x, _BOX8, _SSIM_YANG_C, "b", "fused")
    sim = cov_a / (cov_a + cov_b)
    undefined = np.isnan(sim)
    sim = np.clip(sim, 0.0, 1.0)
    quality = sim * ssim_a + (1 - sim) * ssim_b
    quality[undefined] = 0.5 * ssim_a[undefined] + 0.5 * ssim_b[undefined]
    return float(np.mean(quality))


@register_metric(
    "Qs",
    aliases=["Qpiella"],
    needs=("a", "b", "fused"),
    higher_is_better=True,
    range=(-1, 1),
    reference="Piella & Heijmans 2003 (fusion quality index Q); MFIF-Metrics metricPeilla.m, option 1",
)
def qs(x: MetricInputs) -> float:
    """Piella's fusion quality index: mean over 8x8 windows of
    lambda Q0(a, f) + (1 - lambda) Q0(b, f), lambda = s_a / (s_a + s_b).

    Q0 is UIQI (SSIM with C1 = C2 = (1e-6 * 255)^2) over 8x8 uniform windows, 'valid' maps;
    where s_a + s_b = 0, lambda = 1/2. ``metricPeilla(A, B, F, 1)``. G. Piella, H. Heijmans,
    "A new quality metric for image fusion", ICIP 2003. Range [-1, 1], 1 = best."""
    _check_size(x, "Qs", 8)
    return _piella(x, "a", "b", "fused", weighted=False)


@register_metric(
    "Qe",
    aliases=["QE"],
    needs=("a", "b", "fused"),
    higher_is_better=True,
    range=(-1, 1),
    reference="Piella & Heijmans 2003 (edge-dependent fusion quality index); "
    "MFIF-Metrics metricPeilla.m, option 3",
)
def qe(x: MetricInputs) -> float:
    """Piella's edge-dependent fusion quality index with alpha = 1: Qw(a, b, f) * Qw(a', b', f'),
    where a', b', f' are Prewitt gradient magnitudes (:func:`prewitt_magnitude`, zero-padded
    'same' filtering).

    ``metricPeilla(A, B, F, 3)``. Piella & Heijmans, ICIP 2003. Range [-1, 1], 1 = best (a
    product of two weighted indices; negative only if exactly one is negative)."""
    _check_size(x, "Qe", 8)
    _prefetch(x, _BOX8, *_PIELLA_GROUPS)  # both halves' filtering in one batch of jobs
    return _piella(x, "a", "b", "fused", weighted=True) * _piella(
        x, "prewitt:a", "prewitt:b", "prewitt:fused", weighted=True
    )
