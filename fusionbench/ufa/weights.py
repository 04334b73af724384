"""UFA-Fuse weights: safetensors files (tensors + a string metadata header, never pickles).

The trained weights ship inside the package as ``fusionbench/weights/<method>.safetensors``
(``ufa``, ``ufa-no-ca``, ``ufa-no-sa``, ``ufa-no-ufa``). The metadata records the variant and
how the weights were trained (steps, crop schedule, loss weight, data).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

__all__ = [
    "WEIGHTS_DIR",
    "WeightsError",
    "method_name",
    "shipped_weights",
    "sha256_file",
    "save_weights",
    "read_metadata",
    "load_model",
]

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
FORMAT = "fusionbench-ufa-1"


class WeightsError(ValueError):
    """A weights file is missing, corrupt or does not match the network; names the file."""


def method_name(variant: str) -> str:
    """Registered method name of a variant: ``full`` -> ``ufa``, ``no-ca`` -> ``ufa-no-ca``."""
    return "ufa" if variant == "full" else f"ufa-{variant}"


def shipped_weights(variant: str = "full") -> Path:
    """Path of the weights shipped with fusionbench for ``variant``."""
    return WEIGHTS_DIR / f"{method_name(variant)}.safetensors"


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_weights(model, path: str | os.PathLike, info: dict[str, Any] | None = None) -> str:
    """Write ``model``'s parameters (float32, contiguous) atomically; returns the sha256.

    ``info`` (JSON-serialisable) goes into the metadata next to the variant and format.
    """
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    metadata = {"format": FORMAT, "variant": model.variant, "info": json.dumps(info or {}, sort_keys=True)}
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=metadata)
    os.replace(tmp, path)
    return sha256_file(path)


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The metadata header of a weights file (``info`` decoded from JSON)."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: weights file not found")
    try:
        with safe_open(str(path), framework="pt") as fh:
            metadata = dict(fh.metadata() or {})
    except Exception as exc:  # safetensors raises its own error types for bad headers
        raise WeightsError(
            f"{path}: not a valid safetensors weights file ({type(exc).__name__}: {exc}); "
            "re-install fusionbench, or export the weights again with `fusionbench train`"
        ) from exc
    if "info" in metadata:
        try:
            metadata["info"] = json.loads(metadata["info"])
        except json.JSONDecodeError:
            pass
    return metadata


def load_model(path: str | os.PathLike, variant: str | None = None):
    """Build a :class:`~fusionbench.ufa.model.UFAFuse` from a weights file, in eval mode.

    ``variant``: the expected variant (None: the one in the file's metadata). Raises
    :class:`WeightsError` naming the file if it is missing, corrupt, or its tensors do not
    match the network (wrong variant, missing/extra/mis-shaped tensors).
    """
    from safetensors.torch import load_file

    from .model import VARIANTS, UFAFuse

    path = Path(path)
    metadata = read_metadata(path)
    stored = metadata.get("variant")
    if variant is None:
        variant = stored or "full"
    elif stored is not None and stored != variant:
        raise WeightsError(f"{path}: holds weights of the UFA-Fuse variant {stored!r}, not {variant!r}")
    if variant not in VARIANTS:
        raise WeightsError(f"{path}: unknown UFA-Fuse variant {variant!r} in the metadata")
    try:
        tensors = load_file(str(path))
    except Exception as exc:
        raise WeightsError(
            f"{path}: cannot read the tensors ({type(exc).__name__}: {exc}); the file is corrupt "
            "or truncated - re-install fusionbench, or export the weights again"
        ) from exc
    model = UFAFuse(variant)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    wrong = sorted(k for k in set(expected) & set(tensors) if tuple(expected[k].shape) != tuple(tensors[k].shape))
    if missing or unexpected or wrong:
        details = "; ".join(
            f"{label}: {', '.join(keys[:5])}{' ...' if len(keys) > 5 else ''}"
            for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong))
            if keys
        )
        raise WeightsError(f"{path}: tensors do not match the UFA-Fuse {variant!r} network ({details})")
    bad = [k for k, v in tensors.items() if not v.is_floating_point() or not bool(v.isfinite().all())]
    if bad:
        raise WeightsError(f"{path}: non-float or non-finite values in {', '.join(bad[:5])}")
    model.load_state_dict({k: v.float() for k, v in tensors.items()})
    return model.eval()
