"""The compiled kernels: the direct separable filter against MATLAB's filter2, and numba's
on-disk cache falling back to no cache where no cache folder is writable."""

from __future__ import annotations

import numpy as np
import pytest

from fusionbench.metrics import _kernels
from fusionbench.metrics._matlab import filter2


def test_kernels_compile_without_a_writable_cache_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only site-packages and home (no numba cache locator applies) must not break the
    metrics: numba raises at compile time with cache=True, and the kernels compile uncached."""
    import numba.core.caching

    monkeypatch.setattr(numba.core.caching.CacheImpl, "_locator_classes", [])
    with pytest.raises(RuntimeError, match="no locator available"):
        _kernels._compile(cache=True)
    _kernels.kernels.cache_clear()
    try:
        compiled = _kernels.kernels()
        image = np.random.default_rng(4).random((9, 12))
        column, row = np.array([0.25, 0.5, 0.25]), np.array([1.0, -2.0, 0.5, 3.0])
        out = np.empty((7, 9))
        compiled.separable_rows(image, column, row, 1, 0, out)
        np.testing.assert_allclose(out, filter2(np.outer(column, row), image, "valid"), rtol=1e-13)
    finally:
        _kernels.kernels.cache_clear()  # the next user compiles (or loads) the cached kernels again
