"""Compiled (numba) kernels of the metrics' hot loops: direct separable window filtering and
fused per-pixel stages, all float64 as the reference code computes.

numba is imported on first use, not with fusionbench (its import costs ~0.3 s), and compiles
each kernel once per machine: the machine code is cached on disk (``cache=True``) beside this
file or, where that is not writable (a system site-packages), in numba's per-user cache
directory; where neither is writable, set ``NUMBA_CACHE_DIR``. Kernels release the GIL, so
:func:`~fusionbench.metrics._shared.parallel_map` runs them in threads.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

__all__ = ["kernels"]


@lru_cache(maxsize=1)
def kernels():
    """The compiled kernels, as a namespace (compiled or loaded from the cache on first call)."""
    try:
        return _compile(cache=True)
    except RuntimeError:  # numba: "cannot cache function ...: no locator available" (nowhere writable)
        return _compile(cache=False)


def _compile(cache: bool):
    import numba

    jit = numba.njit(cache=cache, nogil=True, error_model="numpy")

    @jit
    def separable_rows(image, column, row, step, first_row, out):
        """``out[i - first_row, j] = sum_s sum_t column[s] row[t] image[step*i + s, step*j + t]``
        for output rows ``first_row .. first_row + len(out) - 1``: each output row is the
        column kernel applied to ``len(column)`` image rows (one pass over whole rows, which
        vectorises), then the row kernel along that sum."""
        width = image.shape[1]
        n_col, n_row = column.size, row.size
        w_out = out.shape[1]
        line = np.empty(width)
        for i in range(out.shape[0]):
            top = step * (first_row + i)
            c = column[0]
            for x in range(width):
                line[x] = c * image[top, x]
            # Four taps per pass over the row (one load and store of the sum per four taps),
            # added in tap order: the same rounding as one tap per pass.
            s = 1
            while s + 4 <= n_col:
                c0, c1, c2, c3 = column[s], column[s + 1], column[s + 2], column[s + 3]
                r0, r1, r2, r3 = image[top + s], image[top + s + 1], image[top + s + 2], image[top + s + 3]
                for x in range(width):
                    line[x] = (((line[x] + c0 * r0[x]) + c1 * r1[x]) + c2 * r2[x]) + c3 * r3[x]
                s += 4
            for t in range(s, n_col):
                c = column[t]
                for x in range(width):
                    line[x] += c * image[top + t, x]
            result = out[i]
            if step == 1:
                c = row[0]
                for j in range(w_out):
                    result[j] = c * line[j]
                t = 1
                while t + 4 <= n_row:
                    c0, c1, c2, c3 = row[t], row[t + 1], row[t + 2], row[t + 3]
                    for j in range(w_out):
                        result[j] = (((result[j] + c0 * line[j + t]) + c1 * line[j + t + 1]) + c2 * line[j + t + 2]) + c3 * line[j + t + 3]
                    t += 4
                for u in range(t, n_row):
                    c = row[u]
                    for j in range(w_out):
                        result[j] += c * line[j + u]
            else:
                for j in range(w_out):
                    total = 0.0
                    for t in range(n_row):
                        total += row[t] * line[step * j + t]
                    result[j] = total

    @jit
    def viff_log_sums(moments, sums):
        """VIFF's per-pixel stage on rows of the moment maps ``(mu_a, mu_b, mu_f, E[a^2],
        E[b^2], E[f^2], E[af], E[bf])``: for each row r, ``sums[r] = (sum log10 VID,
        sum log10 VIND)`` of the source with the smaller gain (B on ties). log10 is taken of
        running products of the terms (each >= 1), flushed before they could overflow."""
        noise = 0.005 * 255.0 * 255.0
        floor = 1e-10
        for r in range(moments.shape[1]):
            vid_log = 0.0
            vind_log = 0.0
            vid_product = 1.0
            vind_product = 1.0
            for j in range(moments.shape[2]):
                mu_f = moments[2, r, j]
                sigma2_sq = max(moments[5, r, j] - mu_f * mu_f, 0.0)
                best_g = 0.0
                best_vid = 1.0
                best_vind = 1.0
                for source in range(2):
                    mu = moments[source, r, j]
                    sigma1_sq = max(moments[3 + source, r, j] - mu * mu, 0.0)
                    sigma12 = moments[6 + source, r, j] - mu * mu_f
                    g = sigma12 / (sigma1_sq + floor)
                    sv_sq = max(sigma2_sq - g * sigma12, floor)
                    informative = sigma1_sq >= floor
                    if not (informative and sigma2_sq >= floor and g > 0):
                        g = 0.0
                    vid = g * g * sigma1_sq / (sv_sq + noise) + 1.0
                    vind = (sigma1_sq if informative else 0.0) / noise + 1.0
                    # B (source 1) unless A's gain is strictly smaller.
                    if source == 0 or not (best_g < g):
                        best_g, best_vid, best_vind = g, vid, vind
                vid_product *= best_vid
                vind_product *= best_vind
                if vid_product > 1e200:
                    vid_log += math.log10(vid_product)
                    vid_product = 1.0
                if vind_product > 1e200:
                    vind_log += math.log10(vind_product)
                    vind_product = 1.0
            sums[r, 0] = vid_log + math.log10(vid_product)
            sums[r, 1] = vind_log + math.log10(vind_product)

    return _Namespace(separable_rows=separable_rows, viff_log_sums=viff_log_sums)


class _Namespace:
    def __init__(self, **kernels) -> None:
        self.__dict__.update(kernels)
