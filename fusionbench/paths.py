"""Where fusionbench looks for data and keeps its cache.

Precedence, the same for both folders: an explicit argument (``--data-dir`` / ``--cache-dir``)
wins over the environment variable (``FUSIONBENCH_DATA`` / ``FUSIONBENCH_CACHE``), which wins
over the per-user cache folder that :mod:`platformdirs` gives for this OS
(``~/.cache/fusionbench`` on Linux).

* **data root**: the folder holding one sub-folder per dataset (``lytro/``, ``tno/`` ...), laid
  out as ``fusionbench datasets fetch`` writes it and as the shared datasets folder is;
  default ``<user cache>/datasets``.
* **cache root**: fused images and scores of the runner (content-addressed, see
  :mod:`fusionbench.cache`) and the generated ``synthetic`` dataset; default
  ``<user cache>/cache``.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["data_root", "cache_root", "user_cache_root"]

DATA_ENV = "FUSIONBENCH_DATA"
CACHE_ENV = "FUSIONBENCH_CACHE"


def user_cache_root() -> Path:
    """The per-user cache folder of fusionbench for this OS (not created)."""
    return Path(platformdirs.user_cache_dir("fusionbench", appauthor=False))


def data_root(data_dir: str | os.PathLike | None = None) -> Path:
    """The data root: ``data_dir`` > ``$FUSIONBENCH_DATA`` > ``<user cache>/datasets``."""
    if data_dir:
        return Path(data_dir).expanduser()
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    return user_cache_root() / "datasets"


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The cache root: ``cache_dir`` > ``$FUSIONBENCH_CACHE`` > ``<user cache>/cache``."""
    if cache_dir:
        return Path(cache_dir).expanduser()
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return user_cache_root() / "cache"
