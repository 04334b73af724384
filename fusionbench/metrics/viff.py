"""VIFF: visual information fidelity for fusion (Han, Cai, Cao & Xu 2013).

Y. Han, Y. Cai, Y. Cao, X. Xu, "A new image fusion performance metric based on visual
information fidelity", Information Fusion 14(2):127-135, 2013. Reference code:
``VIFF_Public.m`` (MFIF-Metrics), the source of the golden values. This is *not* the
single-reference pixel VIF (VIFp) of Sheikh & Bovik; it extends VIF's Gaussian scale mixture
model to two sources.
"""

from __future__ import annotations

import math

import numpy as np

from ._kernels import kernels
from ._matlab import fspecial_gaussian
from ._shared import correlate_separable, parallel_map
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
_PIXELS_PER_TASK = 32768  # per-pixel stage: rows per thread-pool task


def _window_1d(size: int) -> np.ndarray:
    """1-D factor of ``fspecial('gaussian', N, N/5)`` (the 2-D window is its outer product,
    up to rounding; no tap is small enough to be zeroed by fspecial at these sizes)."""
    return fspecial_gaussian((1, size), size / 5.0)[0]


def _scale_ratio(a: np.ndarray, b: np.ndarray, f: np.ndarray, window: np.ndarray) -> float:
    """sum(VID + 1e-7) / sum(VIND + 1e-7) of one scale.

    Per pixel (compiled, :func:`~fusionbench.metrics._kernels.kernels` ``viff_log_sums``), for
    each source S against F, ``ComVidVindG`` of the reference: the gain g = s_SF / (s_S^2 +
    1e-10) and the terms 1 + g^2 s_S^2 / (sv^2 + sn) (VID) and 1 + s_S^2 / sn (VIND) whose
    log10 are its maps. The reference's sequence of clamps reduces to: g = g0 where s_S^2 >=
    1e-10, s_F^2 >= 1e-10 and g0 > 0, else 0 (the VID term is then exactly 1, whatever sv);
    sv^2 = max(s_F^2 - g0 s_SF, 1e-10); s_S^2 < 1e-10 counts as 0 in VIND. The source with the
    smaller g (B on ties) supplies both terms."""
    products = np.empty((8,) + f.shape)
    products[0], products[1], products[2] = a, b, f
    np.multiply(a, a, out=products[3])
    np.multiply(b, b, out=products[4])
    np.multiply(f, f, out=products[5])
    np.multiply(a, f, out=products[6])
    np.multiply(b, f, out=products[7])
    moments = correlate_separable(products, window, window)
    rows = moments.shape[1]
    sums = np.empty((rows, 2))
    log_sums = kernels().viff_log_sums
    step = max(1, _PIXELS_PER_TASK // moments.shape[2])
    parallel_map(lambda first: log_sums(moments[:, first : first + step], sums[first : first + step]), list(range(0, rows, step)))
    n = moments[0].size
    # Row sums added in row order: the value does not depend on the threads.
    return (math.fsum(sums[:, 0]) + n * _C) / (math.fsum(sums[:, 1]) + n * _C)


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
