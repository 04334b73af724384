"""Content-addressed cache of fused images and metric scores.

Keys are sha256 digests of what determines the value, so a changed input, parameter or code
version gives a new key and nothing stale is ever returned:

* **fused image**: the method's identity (:meth:`FusionMethod.identity`: name, parameters,
  version; learned methods add their weights' hash) + a hash of the method's source module
  and of the shared registry code (colour policy) + the sha256 of both source files.
* **score**: the fused key + the sha256 of the ground truth (if any) + metric name + the
  metric's code version (:func:`metric_code_version`) + the evaluation convention.

Layout under the cache root (``--cache-dir`` > ``$FUSIONBENCH_CACHE`` > user cache, see
:mod:`fusionbench.paths`)::

    fused/<k[:2]>/<k>.npy    the fused image as saved: uint8, (H, W) or (H, W, 3)
    fused/<k[:2]>/<k>.json   {"npy_sha256", "fuse_seconds", "shape", "method", "checksum"}
    scores/<k[:2]>/<k>.json  {"scores": {score key: {"metric", "value"}}, "checksum"}

Scores live in one file per fused image (``k`` = the fused key), holding every score
computed for it under its own score key: a task reads and writes one file, not one per
metric (that was most of the runner's own per-task time), and a new metric or metric
version adds an entry beside the others.

The image is stored as ``.npy`` (not PNG) because encoding PNG costs more than fusing with a
fast method; reports write their own PNG/JPEG copies. Every write goes to a temporary file in
the same folder and is renamed into place (atomic on POSIX and Windows), so an interrupted
run leaves complete entries or none. Every read checks the JSON's own checksum and, for
images, the ``.npy`` sha256; a corrupted entry is deleted, counted in :attr:`Cache.corrupted`
and reported as absent, so the caller recomputes it.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import io
import json
import marshal
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .io import write_atomic

__all__ = [
    "Cache",
    "CacheInfo",
    "CacheWriteError",
    "FusedEntry",
    "fused_key",
    "method_code_version",
    "metric_code_version",
    "score_key",
]

FORMAT_VERSION = "1"


def _digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _module_source(name: str) -> bytes | None:
    """The source file of an imported module, or None (not imported, or no source file:
    ``python -c``, stdin, a notebook cell)."""
    try:
        return Path(inspect.getsourcefile(sys.modules[name])).read_bytes()  # type: ignore[arg-type]
    except (KeyError, TypeError, OSError):
        return None


def _source_hash(*modules: str) -> str:
    digest = hashlib.sha256()
    for name in modules:
        digest.update(_module_source(name) or name.encode())
    return digest.hexdigest()[:16]


def _class_bytecode(cls: type) -> bytes:
    """The compiled code and class attributes of ``cls`` and of its bases defined beside it:
    the code version of a class that has no source file."""
    parts = []
    for klass in cls.__mro__:
        if klass.__module__ != cls.__module__:
            continue
        for attribute, value in sorted(vars(klass).items()):
            function = getattr(value, "__func__", getattr(value, "fget", value))
            code = getattr(function, "__code__", None)
            parts.append(attribute.encode() + (marshal.dumps(code) if code is not None else repr(value).encode()))
    return b"\0".join(parts)


@functools.lru_cache(maxsize=None)
def method_code_version(method_class: type) -> str:
    """Hash of the source of a method's module and of :mod:`fusionbench.registry` (which holds
    the shared colour policy): editing either invalidates that method's cached images. A
    method defined where there is no source file (``python -c``, stdin, a notebook) is
    versioned by its class's compiled code instead; a helper function outside the class that
    it calls is then not covered (pass ``--no-cache`` after changing one)."""
    if _module_source(method_class.__module__) is not None:
        return _source_hash(method_class.__module__, "fusionbench.registry")
    digest = hashlib.sha256(_class_bytecode(method_class))
    digest.update(_module_source("fusionbench.registry") or b"")
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=None)
def metric_code_version(metric: Any) -> str:
    """The code version of a metric: its explicit ``version`` attribute if it has one, plus a
    hash of the source of its module and of the shared metric input/MATLAB helpers."""
    explicit = str(getattr(metric, "version", ""))
    module = getattr(metric.compute, "__module__", "")
    return explicit + _source_hash(module, "fusionbench.metrics.inputs", "fusionbench.metrics._matlab")


def fused_key(identity: dict[str, Any], code_version: str, input_sha256: Sequence[str]) -> str:
    """Key of a fused image: method identity + code version + the sources' sha256."""
    return _digest({"kind": "fused", "format": FORMAT_VERSION, "method": identity, "code": code_version, "inputs": list(input_sha256)})


def score_key(fused: str, metric: str, metric_version: str, convention: str | None, gt_sha256: str | None) -> str:
    """Key of one score: the fused image's key + metric name, code version, convention, gt.
    A named convention is keyed with the source of the conventions package too (its
    transforms and definitions are code the metric's own version does not cover)."""
    identity: Any = convention
    if convention is not None:
        import fusionbench.metrics.conventions  # noqa: F401  (loaded so that its source is hashed)

        package = "fusionbench.metrics.conventions"
        identity = {"name": convention, "code": _source_hash(package, f"{package}.transforms", f"{package}.definitions")}
    return _digest(
        {"kind": "score", "format": FORMAT_VERSION, "fused": fused, "metric": metric, "version": metric_version, "convention": identity, "gt": gt_sha256}
    )


class CacheWriteError(OSError):
    """The cache could not be written (read-only folder, full disk ...); names the path."""


@dataclass(frozen=True)
class FusedEntry:
    """A verified cached fused image."""

    key: str
    path: Path
    fuse_seconds: float
    shape: tuple[int, ...]

    def image(self) -> np.ndarray:
        return np.load(self.path, allow_pickle=False)


@dataclass(frozen=True)
class CacheInfo:
    root: Path
    fused_entries: int
    score_entries: int
    bytes: int


class Cache:
    """The cache under ``root`` (created on first write)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.corrupted: list[str] = []

    def check_writable(self) -> None:
        """Raise :class:`CacheWriteError` naming the folder and the fix when an entry cannot
        be written here (checked before a run computes anything)."""
        try:
            _atomic_write(self.root / ".write-check", b"")
            (self.root / ".write-check").unlink()
        except OSError as exc:
            raise CacheWriteError(
                f"the cache folder {self.root} is not writable ({exc.strerror or exc}); pass --cache-dir DIR "
                "(or set FUSIONBENCH_CACHE) to a writable folder, or use --no-cache"
            ) from None

    def _path(self, kind: str, key: str, suffix: str) -> Path:
        return self.root / kind / key[:2] / f"{key}{suffix}"

    # ------------------------------------------------------------ fused images

    def get_fused(self, key: str) -> FusedEntry | None:
        """The verified entry for ``key``, or None (absent, or corrupted and removed)."""
        meta_path = self._path("fused", key, ".json")
        npy_path = meta_path.with_suffix(".npy")
        meta = self._read_json(meta_path)
        if meta is None:
            if npy_path.exists():
                self._discard(key, npy_path)
            return None
        try:
            ok = npy_path.is_file() and _file_sha256(npy_path) == meta["npy_sha256"]
        except KeyError:
            ok = False
        if not ok:
            self._discard(key, meta_path, npy_path)
            return None
        return FusedEntry(key, npy_path, float(meta["fuse_seconds"]), tuple(meta["shape"]))

    def put_fused(self, key: str, image: np.ndarray, fuse_seconds: float, method: dict[str, Any]) -> FusedEntry:
        """Store a uint8 fused image with its fuse time; returns the entry."""
        if image.dtype != np.uint8:
            raise TypeError(f"cache stores fused images as saved (uint8), got {image.dtype}")
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(image), allow_pickle=False)
        data = buffer.getvalue()
        npy_path = self._path("fused", key, ".npy")
        _atomic_write(npy_path, data)
        meta = {"npy_sha256": hashlib.sha256(data).hexdigest(), "fuse_seconds": fuse_seconds, "shape": list(image.shape), "method": method}
        self._write_json(self._path("fused", key, ".json"), meta)
        return FusedEntry(key, npy_path, fuse_seconds, tuple(image.shape))

    # ------------------------------------------------------------ scores

    def get_scores(self, fused: str) -> dict[str, float]:
        """``{score key: value}`` stored for the fused image ``fused`` (values may be NaN: a
        metric's documented degenerate result); empty when absent or corrupted."""
        entry = self._read_score_file(self._path("scores", fused, ".json"))
        return {key: float(item["value"]) for key, item in entry["scores"].items()}

    def put_scores(self, fused: str, scores: dict[str, tuple[str, float]]) -> None:
        """Add ``{score key: (metric name, value)}`` to the fused image's score file."""
        path = self._path("scores", fused, ".json")
        entry = self._read_score_file(path)
        entry["scores"].update({key: {"metric": metric, "value": value} for key, (metric, value) in scores.items()})
        self._write_json(path, entry)

    # ------------------------------------------------------------ housekeeping

    def info(self) -> CacheInfo:
        counts = {"fused": 0, "scores": 0}
        total = 0
        for kind in counts:
            folder = self.root / kind
            if not folder.is_dir():
                continue
            for path in folder.rglob("*.*"):
                total += path.stat().st_size
                if path.suffix != ".json":
                    continue
                if kind == "scores":
                    counts[kind] += len(self._read_score_file(path)["scores"])
                else:
                    counts[kind] += 1
        return CacheInfo(self.root, counts["fused"], counts["scores"], total)

    def clear(self) -> CacheInfo:
        """Delete every fused image and score; returns what was there."""
        before = self.info()
        for kind in ("fused", "scores"):
            shutil.rmtree(self.root / kind, ignore_errors=True)
        return before

    # ------------------------------------------------------------ helpers

    def _read_score_file(self, path: Path) -> dict[str, Any]:
        """A score file's payload; an absent, corrupt or other-layout file (e.g. written by
        an older fusionbench) is discarded and reads as empty, so its scores are recomputed."""
        entry = self._read_json(path)
        items = entry.get("scores") if entry is not None else None
        if not isinstance(items, dict) or not all(isinstance(v, dict) and "value" in v for v in items.values()):
            if entry is not None:
                self._discard(path.stem, path)
            return {"scores": {}}
        return entry

    def _read_json(self, path: Path) -> dict[str, Any] | None:
        try:
            text = path.read_text()
        except (FileNotFoundError, NotADirectoryError):
            return None
        try:
            entry = json.loads(text)
            payload = {k: v for k, v in entry.items() if k != "checksum"}
            valid = entry.get("checksum") == _checksum(payload)
        except (json.JSONDecodeError, AttributeError):
            valid = False
        if not valid:
            self._discard(path.stem, path)
            return None
        return payload

    def _write_json(self, path: Path, payload: dict[str, Any]) -> None:
        entry = dict(payload, checksum=_checksum(payload))
        _atomic_write(path, json.dumps(entry, sort_keys=True).encode())

    def _discard(self, key: str, *paths: Path) -> None:
        self.corrupted.append(key)
        for path in paths:
            path.unlink(missing_ok=True)


def _checksum(payload: dict[str, Any]) -> str:
    # Same canonical JSON as on disk (NaN is the token NaN, which Python's json reads back).
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    """:func:`~fusionbench.io.write_atomic`, an :class:`OSError` becoming a
    :class:`CacheWriteError` naming ``path``."""
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise CacheWriteError(exc.errno, f"cannot write the cache entry {path}: {exc.strerror or exc}") from exc
