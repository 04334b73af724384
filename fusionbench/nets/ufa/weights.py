"""UFA-Fuse weights files (the shared format of :mod:`fusionbench.nets.weights`).

Shipped as ``fusionbench/weights/<method>.safetensors`` for the methods ``ufa``,
``ufa-no-ca``, ``ufa-no-sa``, ``ufa-no-ufa`` (and ``ufa-ablation``: the full model trained
with the ablation variants' budget). The metadata adds ``variant`` to the shared header.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..weights import WeightsError, load_state, read_metadata
from ..weights import shipped_weights as _shipped

__all__ = ["method_name", "shipped_weights", "load_model"]


def method_name(variant: str) -> str:
    """Registered method name of a variant: ``full`` -> ``ufa``, ``no-ca`` -> ``ufa-no-ca``."""
    return "ufa" if variant == "full" else f"ufa-{variant}"


def shipped_weights(variant: str = "full") -> Path:
    """Path of the weights shipped with fusionbench for ``variant``."""
    return _shipped(method_name(variant))


def load_model(path: str | os.PathLike, variant: str | None = None):
    """Build a :class:`~fusionbench.nets.ufa.model.UFAFuse` from a weights file, in eval mode.

    ``variant``: the expected variant (None: the one in the file's metadata). Raises
    :class:`~fusionbench.nets.weights.WeightsError` naming the file if it is missing, corrupt
    (its tensors differ from their recorded checksum), or its tensors do not match the network
    (wrong variant, missing/extra/mis-shaped tensors).
    """
    from .model import VARIANTS, UFAFuse

    path = Path(path)
    metadata = read_metadata(path)
    network = metadata.get("network", "ufa")
    if network != "ufa":
        raise WeightsError(f"{path}: holds weights of the network {network!r}, not UFA-Fuse")
    stored = metadata.get("variant")
    if variant is None:
        variant = stored or "full"
    elif stored is not None and stored != variant:
        raise WeightsError(f"{path}: holds weights of the UFA-Fuse variant {stored!r}, not {variant!r}")
    if variant not in VARIANTS:
        raise WeightsError(f"{path}: unknown UFA-Fuse variant {variant!r} in the metadata")
    model = UFAFuse(variant)
    load_state(model, path, f"the UFA-Fuse {variant!r} network")
    return model.eval()
