"""Network weights files: safetensors (tensors + a string metadata header, never pickles).

Every trained network of fusionbench uses this one format. Shipped weights live in
``fusionbench/weights/<name>.safetensors`` (``<name>`` is the registered method, e.g. ``ufa``,
``ufa-no-ca``). The metadata header (all values strings, as safetensors requires):

* ``format``: ``fusionbench-weights-1``;
* ``network``: the training name (``fusionbench train NAME``), e.g. ``ufa``;
* ``tensors_sha256``: :func:`tensors_sha256` of the tensors, checked by :func:`load_tensors`
  so that a file whose tensor bytes were damaged is refused instead of used;
* ``info``: JSON of how the weights were trained (settings, step, wall time, ``device``,
  ``samples_seen`` per crop size, hardware);
* anything the network adds (e.g. UFA-Fuse's ``variant``).

Files written before the checksum existed (format ``fusionbench-ufa-1``, no
``tensors_sha256``) still load, with a warning that they cannot be verified.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Any, Mapping

__all__ = [
    "FORMAT",
    "WEIGHTS_DIR",
    "WeightsError",
    "shipped_weights",
    "resolve_weights",
    "sha256_file",
    "tensors_sha256",
    "save_weights",
    "read_metadata",
    "load_tensors",
    "load_state",
]

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
FORMAT = "fusionbench-weights-1"


class WeightsError(ValueError):
    """A weights file is missing, corrupt or does not match the network; names the file."""


def shipped_weights(name: str) -> Path:
    """Path of the weights shipped with fusionbench under ``name`` (e.g. ``"ufa-no-ca"``)."""
    return WEIGHTS_DIR / f"{name}.safetensors"


def resolve_weights(spec: str | os.PathLike | None, default: str) -> Path:
    """The file a method's ``weights`` parameter names: None -> the shipped ``default``; a
    bare name of a shipped file (``"ufa-ablation"``) -> that file; anything else a path."""
    if spec is None:
        return shipped_weights(default)
    spec = os.fspath(spec)
    if os.sep not in spec and "/" not in spec and shipped_weights(spec).is_file():
        return shipped_weights(spec)
    return Path(spec)


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def tensors_sha256(tensors: Mapping[str, Any]) -> str:
    """sha256 over the tensors in name order: for each, its name, dtype, shape and raw bytes
    (native little-endian, C order). Independent of the file layout and of the metadata."""
    import torch

    digest = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        digest.update(name.encode())
        digest.update(str(t.dtype).encode())
        digest.update(repr(tuple(t.shape)).encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def save_weights(
    model,
    path: str | os.PathLike,
    *,
    network: str,
    info: dict[str, Any] | None = None,
    metadata: Mapping[str, str] | None = None,
) -> str:
    """Write ``model``'s state (contiguous CPU tensors) atomically; returns the file's sha256.

    ``info`` (JSON-serialisable) is the training record; ``metadata`` adds string entries
    (e.g. ``{"variant": "no-ca"}``) next to ``format``, ``network`` and ``tensors_sha256``.
    """
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    header = {**(metadata or {}), "format": FORMAT, "network": network,
              "tensors_sha256": tensors_sha256(tensors), "info": json.dumps(info or {}, sort_keys=True)}
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=header)
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


_warned_unverified: set[str] = set()


def load_tensors(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, Any]]:
    """The tensors and metadata of a weights file, verified against ``tensors_sha256``.

    Raises :class:`WeightsError` naming the file if it is missing, not safetensors, truncated,
    or its tensors differ from the checksum recorded at export. A file without a checksum
    (written before it existed, or by another tool) loads with a warning.
    """
    from safetensors.torch import load_file

    path = Path(path)
    metadata = read_metadata(path)
    try:
        tensors = load_file(str(path))
    except Exception as exc:
        raise WeightsError(
            f"{path}: cannot read the tensors ({type(exc).__name__}: {exc}); the file is corrupt "
            "or truncated - re-install fusionbench, or export the weights again"
        ) from exc
    expected = metadata.get("tensors_sha256")
    if expected is None:
        if str(path) not in _warned_unverified:
            _warned_unverified.add(str(path))
            warnings.warn(f"{path}: the file records no tensor checksum, so damaged tensors cannot be detected; "
                          "re-export it with this fusionbench (`fusionbench train ... --resume` or export_weights)",
                          stacklevel=2)
    elif tensors_sha256(tensors) != expected:
        raise WeightsError(
            f"{path}: the tensors do not match the checksum recorded when the file was written (the file is "
            "damaged); re-install fusionbench for shipped weights, or export the weights again"
        )
    return tensors, metadata


def load_state(model, path: str | os.PathLike, what: str) -> dict[str, Any]:
    """Load a weights file into ``model`` (float tensors only, names and shapes exactly those of
    ``model.state_dict()``, all finite); returns the metadata. ``what`` names the network in
    errors (e.g. ``"the UFA-Fuse 'full' network"``)."""
    tensors, metadata = load_tensors(path)
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
        raise WeightsError(f"{path}: tensors do not match {what} ({details})")
    bad = [k for k, v in tensors.items() if not v.is_floating_point() or not bool(v.isfinite().all())]
    if bad:
        raise WeightsError(f"{path}: non-float or non-finite values in {', '.join(bad[:5])}")
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in tensors.items()})
    return metadata
