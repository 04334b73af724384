"""VIFF: visual information fidelity for fusion (Han, Cai, Cao & Xu 2013).

Y. Han, Y. Cai, Y. Cao, X. Xu, "A new image fusion performance metric based on visual
information fidelity", Information Fusion 14(2):127-135, 2013. Reference code:
``VIFF_Public.m`` (MFIF-Metrics), the source of the golden values. This is *not* the
single-reference pixel VIF (VIFp) of Sheikh & Bovik; it extends VIF's Gaussian scale mixture
model to two sources.
"""

from __future__ import annotations

import numpy as np

from ._matlab import fspecial_gaussian
from ._shared import correlate_separable, map_row_blocks
from .inputs import MetricInputs
from .registry import register_metric

__all__ = ["viff"]

_VISUAL_NOISE = 0.005 * 255 * 255  # sigma_n^2 of the HVS noise, on the [0, 255] scale
_EPS_VAR = 1e-10  # variance floor / "flat window" threshold of the reference code
_C = 1e-7  # added to every map pixel before summing
# Scale weights [1, 0, 0.15, 1] / 2.15 (element-wise, as the reference divides them).
_SCALE_WEIGHTS = tuple(w / 2.15 for w in (1.0, 0.0, 0.15, 1.0))
# Window of scale s = 1..4: fspecial('gaussian', N, N/5) with N = 2^(5-s) + 1.
_WINDOW_SIZES = (17, 9, 5, 3)


def _window_1d(size: int) -> np.ndarray:
    """1-D factor of ``fspecial('gaussian', N, N/5)`` (the 2-D window is its outer product,
    up to rounding; no tap is small enough to be zeroed by fspecial at these sizes)."""
    return fspecial_gaussian((1, size), size / 5.0)[0]


def _sum_log10(terms: np.ndarray) -> float:
    """sum(log10(terms)) for terms >= 1, as log10 of products of 32 terms at a time (one
    log10 per 32 values; the products stay far below overflow for the terms here, and a
    non-finite product falls back to the direct sum)."""
    flat = terms.ravel()
    k = 32
    m = flat.size // k
    products = np.multiply.reduce(flat[: m * k].reshape(k, m), axis=0)
    if not np.all(np.isfinite(products)):
        return float(np.sum(np.log10(flat)))
    return float(np.sum(np.log10(products)) + np.sum(np.log10(flat[m * k :])))


def _information_terms(
    mu_ref: np.ndarray, ref_sq: np.ndarray, ref_dist: np.ndarray, mu_dist: np.ndarray, sigma2_sq: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``ComVidVindG`` of the reference at one scale for one source: the gain map g and the
    terms 1 + g^2 s1 / (sv + sn) (VID) and 1 + s1 / sn (VIND) whose log10 are its maps.

    The reference's sequence of clamps reduces to: g = g0 where s1 >= 1e-10, s2 >= 1e-10
    and g0 > 0, else 0 (and then the VID term is exactly 1, whatever sv); where g > 0,
    sv = max(s2 - g0 s12, 1e-10); s1 < 1e-10 counts as 0 in VIND.
    """
    sigma1_sq = ref_sq - mu_ref * mu_ref
    np.maximum(sigma1_sq, 0.0, out=sigma1_sq)
    sigma12 = ref_dist - mu_ref * mu_dist
    g = sigma12 / (sigma1_sq + _EPS_VAR)
    sv_sq = g * sigma12
    np.subtract(sigma2_sq, sv_sq, out=sv_sq)
    np.maximum(sv_sq, _EPS_VAR, out=sv_sq)
    informative_ref = sigma1_sq >= _EPS_VAR
    keep = informative_ref & (sigma2_sq >= _EPS_VAR)
    keep &= g > 0
    g *= keep
    sv_sq += _VISUAL_NOISE
    vid_terms = g * g
    vid_terms *= sigma1_sq
    vid_terms /= sv_sq
    vid_terms += 1.0
    sigma1_sq *= informative_ref
    sigma1_sq /= _VISUAL_NOISE
    sigma1_sq += 1.0
    return g, vid_terms, sigma1_sq


def _block_log_sums(moments: np.ndarray) -> tuple[float, float]:
    """sum(log10) of the VID and of the VIND terms over a block of pixels, the source with
    the smaller gain g supplying both terms at each pixel (B on ties)."""
    mu_a, mu_b, mu_f, aa, bb, ff, af, bf = moments
    sigma2_sq = ff - mu_f * mu_f
    np.maximum(sigma2_sq, 0.0, out=sigma2_sq)
    g_a, vid_a, vind_a = _information_terms(mu_a, aa, af, mu_f, sigma2_sq)
    g_b, vid_b, vind_b = _information_terms(mu_b, bb, bf, mu_f, sigma2_sq)
    take_a = g_a < g_b
    np.copyto(vid_b, vid_a, where=take_a)
    np.copyto(vind_b, vind_a, where=take_a)
    return _sum_log10(vid_b), _sum_log10(vind_b)


def _scale_ratio(a: np.ndarray, b: np.ndarray, f: np.ndarray, window: np.ndarray) -> float:
    """sum(VID + 1e-7) / sum(VIND + 1e-7) of one scale."""
    products = np.empty((8,) + f.shape)
    products[0], products[1], products[2] = a, b, f
    np.multiply(a, a, out=products[3])
    np.multiply(b, b, out=products[4])
    np.multiply(f, f, out=products[5])
    np.multiply(a, f, out=products[6])
    np.multiply(b, f, out=products[7])
    moments = correlate_separable(products, window, window)
    sums = map_row_blocks(_block_log_sums, moments)
    n = moments[0].size
    return (sum(s[0] for s in sums) + n * _C) / (sum(s[1] for s in sums) + n * _C)


def viff_value(a: np.ndarray, b: np.ndarray, fused: np.ndarray) -> float:
    """VIFF of gray float64 images on [0, 255] (see :func:`viff`)."""
    stack = np.stack([a, b, fused])
    total = 0.0
    for scale, (size, weight) in enumerate(zip(_WINDOW_SIZES, _SCALE_WEIGHTS)):
        if min(stack.shape[-2:]) < size:
            return float("nan")  # empty 'valid' maps: the reference's sum 0 / sum 0
        window = _window_1d(size)
        if scale > 0:
            # filter2(win, X, 'valid') then X(1:2:end, 1:2:end)
            stack = correlate_separable(stack, window, window, step=2)
            if min(stack.shape[-2:]) < size:
                return float("nan")
        if weight == 0.0:
            # Scale 2 has weight 0 and its ratio is always finite, so it adds exactly 0.
            continue
        total += _scale_ratio(stack[0], stack[1], stack[2], window) * weight
    return total


@register_metric(
    "VIFF",
    needs=("a", "b", "fused"),
    higher_is_better=True,
    range=(0, np.inf),
    reference="Han et al. 2013, Information Fusion 14(2); MFIF-Metrics VIFF_Public.m",
)
def viff(x: MetricInputs) -> float:
    """Visual information fidelity for fusion (Han et al. 2013), ``VIFF_Public(A, B, F)``.

    Four scales; scale s uses the Gaussian window ``fspecial('gaussian', N, N/5)``,
    N = 17, 9, 5, 3, and for s > 1 the images are first filtered with that window ('valid')
    and decimated by 2. At each scale and pixel, for each source S against the fused F, local
    statistics over the window ('valid', no border padding) give the gain
    g = s_SF / (s_S^2 + 1e-10) and the distortion variance sv^2 = s_F^2 - g s_SF, with the
    reference's clamps (negative variances -> 0; s_S^2 < 1e-10 -> g = 0, sv^2 = s_F^2;
    s_F^2 < 1e-10 -> g = 0, sv^2 = 0; g < 0 -> g = 0, sv^2 = s_F^2; sv^2 >= 1e-10).
    VID = log10(1 + g^2 s_S^2 / (sv^2 + sn)), VIND = log10(1 + s_S^2 / sn), sn = 0.005*255^2.
    Per pixel the source with the smaller g (B on ties) supplies both maps; the scale ratio is
    sum(VID + 1e-7) / sum(VIND + 1e-7), and VIFF is the weighted sum of the ratios with
    weights [1, 0, 0.15, 1] / 2.15. Typically in [0, 1]; it can exceed 1 when the fused
    image has more local contrast than the sources. Not symmetric in A and B: where both
    gains are equal (typically both clamped to 0) B's terms are used, as in the reference.
    Constant sources give 1 (every map term is 0, each ratio is (n 1e-7) / (n 1e-7)). NaN
    when an image has fewer than 41 rows or columns: a scale's 'valid' window then leaves no
    pixel and the reference divides an empty sum, 0, by 0.

    Exactness: the window sums are direct sums (no FFT), equal to the reference's up to
    rounding (~1e-13 absolute on the [0, 255] scale). Only where a source is exactly flat at a
    non-zero level is its local variance a rounding residue compared with the 1e-10 threshold,
    so that the two summation orders can disagree on g there; that changes the value only if
    the fused image is not flat at the same place (not the case in the golden or extra test
    cases, which match to ~1e-14).
    """
    return viff_value(x.a, x.b, x.fused)
