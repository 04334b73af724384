"""The base of registered methods backed by a trained local network (DenseFuse, DeepFuse, IFCNN).

A :class:`NetworkMethod` has the parameters every such method shares:

* ``weights``: a ``.safetensors`` file, or the name of one shipped in ``fusionbench/weights/``
  without its suffix; None: the method's shipped weights (:meth:`NetworkMethod.default_weights`);
* ``max_pixels`` / ``tile``: images larger than ``max_pixels`` pixels are processed in
  ``tile`` x ``tile`` tiles with a halo of the network's receptive radius: the same result,
  memory bounded by the tile (:func:`fusionbench.nets.tiled.run_local`);
* ``device``: ``"cpu"`` or a CUDA device such as ``"cuda"`` (float32 on both).

The weights file's sha256 is part of the method's identity (the runner's cache key), and
the loaded network is cached per process. torch is imported only when a method fuses.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from fusionbench.registry import FusionMethod

from .tiled import DEFAULT_MAX_PIXELS, DEFAULT_TILE

__all__ = ["NetworkMethod"]


@functools.lru_cache(maxsize=16)
def _file_sha256(path: str, mtime_ns: int, size: int) -> str:
    from .weights import sha256_file

    return sha256_file(path)


@functools.lru_cache(maxsize=8)
def _cached_model(cls: type, path: str, sha256: str, key: Any):
    return cls.load_model(Path(path), key)


@dataclass
class NetworkMethod(FusionMethod):
    """A method whose output comes from a trained network (see the module docstring)."""

    family: ClassVar[str] = "deep"
    network: ClassVar[str] = ""  # the network's training name, recorded in its weights files

    weights: str | None = None
    max_pixels: int = DEFAULT_MAX_PIXELS
    tile: int = DEFAULT_TILE
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.max_pixels < 1 or self.tile < 16:
            raise ValueError(f"{self.name}: max_pixels must be >= 1 and tile >= 16, got {self.max_pixels}, {self.tile}")

    def default_weights(self) -> str:
        """Name of the shipped weights used when ``weights`` is None."""
        return self.name

    def model_key(self) -> Any:
        """What, besides the file, determines the loaded model (e.g. IFCNN's fusion rule)."""
        return None

    @classmethod
    def load_model(cls, path: Path, key: Any):
        """Build the network, load ``path`` into it and return it in eval mode."""
        raise NotImplementedError

    def weights_path(self) -> Path:
        from .weights import resolve_weights

        return resolve_weights(self.weights, self.default_weights())

    def weights_sha256(self) -> str:
        from .weights import WeightsError

        path = self.weights_path()
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            raise WeightsError(f"{path}: weights file of method {self.name!r} not found"
                               + ("" if self.weights else "; re-install fusionbench")) from None
        return _file_sha256(str(path), stat.st_mtime_ns, stat.st_size)

    def identity(self) -> dict[str, Any]:
        identity = super().identity()
        identity["weights_sha256"] = self.weights_sha256()
        return identity

    def model(self):
        """The loaded network (cached per process), on ``device``."""
        model = _cached_model(type(self), str(self.weights_path()), self.weights_sha256(), self.model_key())
        return model.to(self.device)

    @classmethod
    def load_state(cls, model, path: Path, what: str) -> dict[str, Any]:
        """Load the weights file ``path`` into ``model`` (``what`` names it in errors) after
        checking it was written for this network; returns its metadata."""
        from .weights import WeightsError, load_state, read_metadata

        stored = read_metadata(path).get("network")
        if stored is not None and stored != cls.network:
            raise WeightsError(f"{path}: holds weights of the network {stored!r}, not {cls.network!r} "
                               f"(method {cls.name!r})")
        return load_state(model, path, what)
