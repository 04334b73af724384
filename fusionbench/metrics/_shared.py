"""Intermediates that several metric modules use, computed once per :class:`MetricInputs`,
and the two speed devices of the metrics.

* Cached values (:func:`sobel_filter2`, :func:`normalize1`) are keyed by what they are, so a
  metric that needs e.g. the Sobel responses of the fused image gets the ones another metric
  already computed.
* :func:`correlate_separable`: exact direct-sum filtering with a separable kernel (a compiled
  kernel, :mod:`fusionbench.metrics._kernels`), the filter behind the local window statistics.
* :func:`parallel_map` and :func:`map_row_blocks`: work items, and per-pixel stages on blocks
  of rows, run in a small thread pool (numpy and BLAS release the GIL, and ~32k-pixel blocks
  keep a stage's temporaries in cache). Results come back in item order, so values do not
  depend on the threads. The pool has ``min(4, cpu_count)`` threads; set
  ``FUSIONBENCH_METRIC_THREADS=1`` (read at import) to run in the calling thread only, e.g.
  when many processes evaluate metrics at once.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

import numpy as np

from ._kernels import kernels
from ._matlab import matlab_round
from .inputs import MetricInputs

__all__ = ["correlate_separable", "sobel_filter2", "normalize1", "map_row_blocks", "parallel_map", "thread_count"]

T = TypeVar("T")


def _thread_setting() -> int:
    value = os.environ.get("FUSIONBENCH_METRIC_THREADS", "").strip()
    if not value:
        return min(4, os.cpu_count() or 1)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"FUSIONBENCH_METRIC_THREADS={value!r}: expected a positive integer (1 = no threads)")
    return int(value)


_THREADS = _thread_setting()
_PIXELS_PER_BLOCK = 32768
_THREAD_PREFIX = "fusionbench-metrics"
_pool: ThreadPoolExecutor | None = None


def _forget_pool_after_fork() -> None:
    # A forked child has none of the parent's pool threads: give it a pool of its own.
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def thread_count() -> int:
    """Threads the metrics use (also passed to ``scipy.fft`` as ``workers``)."""
    return _THREADS


def parallel_map(function: Callable[..., T], items: list) -> list[T]:
    """``[function(item) for item in items]``, the items processed in the pool's threads
    (with the caller's numpy error settings, which are per thread); results in item order.
    Called from inside a pool thread (a parallel task that itself filters, say) it runs the
    items there, one after another: waiting on the pool from its own threads could deadlock."""
    global _pool
    if len(items) <= 1 or _THREADS == 1 or threading.current_thread().name.startswith(_THREAD_PREFIX):
        return [function(item) for item in items]
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix=_THREAD_PREFIX)
    error_settings = np.geterr()

    def run(item) -> T:
        with np.errstate(**error_settings):
            return function(item)

    return list(_pool.map(run, items))


def map_row_blocks(function: Callable[..., T], *arrays: np.ndarray) -> list[T]:
    """``[function(*(a[..., rows, :] for a in arrays)) for rows in blocks]``: the arrays
    (same number of rows, axis -2) cut into blocks of whole rows, the blocks processed in
    threads, results in block order (so reductions over them are deterministic)."""
    rows, cols = arrays[0].shape[-2:]
    step = max(1, _PIXELS_PER_BLOCK // max(1, cols))
    blocks = [slice(start, min(start + step, rows)) for start in range(0, rows, step)]
    return parallel_map(lambda block: function(*(a[..., block, :] for a in arrays)), blocks)


# Output rows per task of correlate_separable: enough tasks to balance the pool's threads on a
# 520 x 520 image, few enough that a task's overhead does not matter. Fixed, whatever the thread
# count (each output row is computed the same way in any task, so values do not depend on it).
_ROWS_PER_TASK = 64


def correlate_separable(
    images: np.ndarray, column_kernel: np.ndarray, row_kernel: np.ndarray, step: int = 1
) -> np.ndarray:
    """``filter2(column_kernel[:, None] * row_kernel[None, :], image, 'valid')`` for each
    image of a stack ``(..., H, W)``, optionally keeping only every ``step``-th row and
    column of the result (``out(1:step:end, 1:step:end)``).

    Direct summation (compiled kernel: the column kernel over whole rows, then the row kernel):
    exact up to the rounding of a direct 1-D then 1-D sum (~1e-16 relative), unlike FFT
    filtering. Images and blocks of output rows are filtered in parallel.
    """
    images = np.ascontiguousarray(images, dtype=np.float64)
    *lead, height, width = images.shape
    planes = images.reshape(-1, height, width)
    row_kernel = np.ascontiguousarray(row_kernel, dtype=np.float64)
    column_kernel = np.ascontiguousarray(column_kernel, dtype=np.float64)
    w_out = max((width - row_kernel.size) // step + 1, 0)
    h_out = max((height - column_kernel.size) // step + 1, 0)
    out = np.empty((planes.shape[0], h_out, w_out))
    if out.size == 0:
        return out.reshape(*lead, h_out, w_out)
    separable_rows = kernels().separable_rows

    def task(job: tuple[int, int]) -> None:
        index, first = job
        rows = out[index, first : first + _ROWS_PER_TASK]
        separable_rows(planes[index], column_kernel, row_kernel, step, first, rows)

    parallel_map(task, [(index, first) for index in range(len(planes)) for first in range(0, h_out, _ROWS_PER_TASK)])
    return out.reshape(*lead, h_out, w_out)


def _smooth_121(image: np.ndarray, axis: int) -> np.ndarray:
    """[1 2 1] along ``axis`` with zeros outside the image."""
    out = image * 2.0
    lead = [slice(None)] * image.ndim
    tail = [slice(None)] * image.ndim
    lead[axis], tail[axis] = slice(1, None), slice(None, -1)
    out[tuple(lead)] += image[tuple(tail)]
    out[tuple(tail)] += image[tuple(lead)]
    return out


def _central_difference(image: np.ndarray, axis: int) -> np.ndarray:
    """x[i + 1] - x[i - 1] along ``axis`` with zeros outside the image."""
    if image.shape[axis] == 1:
        return np.zeros_like(image)
    out = np.empty_like(image)
    moved, source = np.moveaxis(out, axis, 0), np.moveaxis(image, axis, 0)
    np.subtract(source[2:], source[:-2], out=moved[1:-1])
    moved[0] = source[1]
    np.negative(source[-2], out=moved[-1])
    return out


def sobel_filter2(x: MetricInputs, role: str) -> tuple[np.ndarray, np.ndarray]:
    """``filter2(K, I, 'same')`` (zero padding) of image ``role`` with the Sobel kernels
    ``K = [-1 0 1; -2 0 2; -1 0 1]`` (response to horizontal change, returned first) and its
    transpose (vertical change). Separable; exact on integer images (all sums are small
    integers), and on other images equal to the 2-D sum up to rounding."""

    def compute() -> tuple[np.ndarray, np.ndarray]:
        img = x.image(role)
        horizontal = _central_difference(_smooth_121(img, 0), 1)
        vertical = _central_difference(_smooth_121(img, 1), 0)
        return horizontal, vertical

    return x.cached(("sobel_filter2", role), compute)


def normalize1(x: MetricInputs, role: str) -> np.ndarray:
    """``normalize1.m`` of image ``role``: ``round((I - min) / (max - min) * 255)`` (MATLAB
    ``round``); an all-zero image is returned as is; any other constant image gives all-NaN
    (0 / 0), as in MATLAB."""

    def compute() -> np.ndarray:
        img = x.image(role)
        hi, lo = img.max(), img.min()
        if hi == 0 and lo == 0:
            return img
        if hi == lo:
            return np.full(img.shape, np.nan)
        if lo >= 0 and hi <= 255:
            levels = img.astype(np.uint8)
            if np.array_equal(levels, img):
                # 8-bit data: the same arithmetic on the 256 possible values, then a lookup.
                table = matlab_round((np.arange(256.0) - lo) / (hi - lo) * 255.0)
                return table[levels]
        return matlab_round((img - lo) / (hi - lo) * 255.0)

    return x.cached(("normalize1_nan", role), compute)
