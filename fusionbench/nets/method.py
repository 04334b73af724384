"""Base class of registered fusion methods backed by a trained network (``methods/<name>.py``).

:class:`NetworkMethod` adds to :class:`~fusionbench.registry.FusionMethod` the parameters
``weights`` (None: the file shipped for this method; the name of another shipped file; or a
path) and ``device`` (``"cpu"`` or a CUDA device), puts the weights file's sha256 into the
method's identity (so the runner's cache follows the weights), and loads the network once per
process and weights file (:meth:`network`). A subclass implements :meth:`load_network` (file
-> model in eval mode, raising :class:`~fusionbench.nets.weights.WeightsError` naming the
file) and ``fuse_gray`` or ``fuse_color``. torch is imported only when a method fuses, so
listing methods stays fast.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ..registry import FusionMethod
from .tiled import DEFAULT_MAX_PIXELS, DEFAULT_TILE

__all__ = ["NetworkMethod", "LocalNetworkMethod", "ImageTooLargeError", "available_memory"]


@functools.lru_cache(maxsize=32)
def _file_sha256(path: str, mtime_ns: int, size: int) -> str:
    from .weights import sha256_file

    return sha256_file(path)


@functools.lru_cache(maxsize=8)
def _cached_network(cls: type["NetworkMethod"], path: str, sha256: str):
    return cls.load_network(path)


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"


class ImageTooLargeError(MemoryError):
    """The pair is too large for the memory a method's untiled network would need."""


def available_memory() -> int | None:
    """Bytes of memory available to new allocations (Linux ``MemAvailable``); None if unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


@dataclass
class NetworkMethod(FusionMethod):
    """A fusion method that runs a trained network (see the module docstring).

    ``weights``: a ``.safetensors`` file, or the name of one shipped in ``fusionbench/weights/``
    without its suffix; None: the file shipped for this method (``<method name>.safetensors``).
    ``device``: ``"cpu"`` (float32) or a CUDA device such as ``"cuda"``.
    """

    family: ClassVar[str] = "deep"
    shipped: ClassVar[str | None] = None  # shipped weights' name when it is not the method's
    # What readers of scores made with the shipped weights must know (e.g. under-trained), shown
    # beside them by the runner and the CLI; "" when nothing. Users' own weights carry none.
    shipped_weights_caveat: ClassVar[str] = ""
    # Peak memory of an untiled CPU fuse per pixel of the pair (bytes, measured with some margin),
    # for methods that run the network on the whole image at once; 0 for those that tile.
    bytes_per_pixel: ClassVar[int] = 0

    weights: str | None = None
    device: str = "cpu"

    @classmethod
    def load_network(cls, path: str):
        """The network stored in weights file ``path``, in eval mode."""
        raise NotImplementedError(f"{cls.__name__} does not say how to load its network")

    def weights_path(self) -> Path:
        from .weights import resolve_weights

        return resolve_weights(self.weights, self.shipped or self.name)

    def weights_sha256(self) -> str:
        from .weights import WeightsError

        path = self.weights_path()
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            raise WeightsError(f"{path}: weights file of method {self.name!r} not found"
                               + ("" if self.weights else "; re-install fusionbench")) from None
        return _file_sha256(str(path), stat.st_mtime_ns, stat.st_size)

    def check_memory(self, shape: tuple[int, ...]) -> None:
        """Raise :class:`ImageTooLargeError` when fusing a pair of ``shape`` on the CPU would need
        more memory than the machine has available (instead of being killed by the system)."""
        if not self.bytes_per_pixel or self.device != "cpu":
            return
        available = available_memory()
        needed = shape[0] * shape[1] * self.bytes_per_pixel
        if available is not None and needed > available:
            raise ImageTooLargeError(
                f"{self.name}: a {shape[1]}x{shape[0]} pair needs about {_size(needed)} "
                f"({self.bytes_per_pixel / 1024:.1f} KiB per pixel: the network runs on the whole image), "
                f"{_size(available)} are available; fuse smaller images (crop or downscale them), "
                f"use a machine with more memory or a GPU (device='cuda'), or a method that fuses in tiles "
                f"(cnn, densefuse, deepfuse, drpl, ifcnn, mffgan, ufa)")

    def caveat(self) -> str:
        from .weights import WEIGHTS_DIR

        return self.shipped_weights_caveat if self.weights_path().parent == WEIGHTS_DIR else ""

    def identity(self) -> dict[str, Any]:
        identity = super().identity()
        identity["weights_sha256"] = self.weights_sha256()
        return identity

    def network(self):
        """The loaded network (cached per method class, file and content)."""
        return _cached_network(type(self), str(self.weights_path()), self.weights_sha256())


@dataclass
class LocalNetworkMethod(NetworkMethod):
    """A :class:`NetworkMethod` whose network is local (fully convolutional, receptive radius
    ``radius``): images larger than ``max_pixels`` pixels are fused in ``tile`` x ``tile`` tiles
    with a halo of ``radius`` pixels, the same result with memory bounded by the tile
    (:func:`fusionbench.nets.tiled.run_local`)."""

    radius: ClassVar[int] = 0
    trained: ClassVar[str] = ""  # the training name (fusionbench train NAME) recorded in its weights files

    max_pixels: int = DEFAULT_MAX_PIXELS
    tile: int = DEFAULT_TILE

    def __post_init__(self) -> None:
        if self.max_pixels < 1 or self.tile < 16:
            raise ValueError(f"{self.name}: max_pixels must be >= 1 and tile >= 16, got {self.max_pixels}, {self.tile}")

    def model(self):
        """The loaded network on ``device``, in channels-last layout (faster convolutions on CPU)."""
        import torch

        return self.network().to(self.device, memory_format=torch.channels_last)

    def run(self, function, *images):
        """``function(*tensors)`` of the network on images (C, H, W) float32 -> (C', H, W)."""
        from .tiled import run_local

        return run_local(function, images, self.radius, max_pixels=self.max_pixels, tile=self.tile, device=self.device)

    @classmethod
    def load_checked(cls, model, path: str, what: str) -> dict[str, Any]:
        """Load weights file ``path`` into ``model`` after checking it holds weights of the
        network :attr:`trained`; returns the file's metadata (errors name the file)."""
        from .weights import WeightsError, load_state, read_metadata

        stored = read_metadata(path).get("network")
        if stored != cls.trained:
            raise WeightsError(f"{path}: holds weights of the network {stored!r}, not {cls.trained!r} (method {cls.name!r})")
        return load_state(model, path, what)
