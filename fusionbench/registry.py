"""The fusion-method registry: one interface, ``fuse(a, b) -> image``, for every method.

A method is a small dataclass whose fields are its typed parameters::

    @register_method("gff", family="spatial", reference="Li, Kang & Hu, TIP 2013")
    @dataclass
    class GuidedFilterFusion(FusionMethod):
        r1: int = 45
        eps1: float = 0.3

        def fuse_gray(self, a, b):  # float32 (H, W) in [0, 1] -> (H, W)
            ...

Input and output checks happen here, once, in :meth:`FusionMethod.fuse`; methods only
implement the algorithm.

Colour policy (for methods that fuse gray images only, ``color = "ycbcr"``)
----------------------------------------------------------------------------
If either input is RGB, both are converted to YCbCr (BT.601 studio swing, the matrix of
:func:`fusionbench.io.rgb_to_ycbcr`, computed in float32; a gray input is treated as
R = G = B, i.e. its Y is ``(16 + 219 g) / 255`` and its chroma is neutral).
The Y channels are fused by the method (so ``fuse_gray`` sees Y in [16/255, 235/255]).
Each chroma channel C in {Cb, Cr} is fused as ``(C_a w_a + C_b w_b) / (w_a + w_b)`` with
``w = |C - 128/255|`` (neutral chroma where both weights are 0) - the usual rule in fusion
code - and the result is converted back to RGB and clipped to [0, 1]. So gray + colour pairs
(IR + visible, MRI + PET/SPECT) keep the colour side's chroma. Methods with
``color = "native"`` receive RGB inputs themselves (a gray input paired with RGB is
replicated to three channels).

Output contract
---------------
``fuse`` returns float32 in [0, 1]. A method's own result is checked, never silently
repaired: NaN/inf, a wrong shape, an integer dtype other than uint8, or float values outside
``[-OUTPUT_TOLERANCE, 1 + OUTPUT_TOLERANCE]`` raise :class:`MethodOutputError` naming the
method, dtype and range (a plugin that returns 0..255 floats must not be scored as an
all-white image). Values within the tolerance (half an 8-bit level) are clipped: they save
as 0 or 255 anyway. A uint8 result is read as 0..255 and divided by 255 (the one explicit
conversion). Methods whose algorithm overshoots [0, 1] by design (transform-domain ringing,
ratio pyramids) declare ``clip_output = True`` and are saturated to [0, 1], as the authors'
code does when it saves 8-bit images. Under the colour policy the method's Y is checked the
same way, and the policy's own YCbCr -> RGB result is clipped to [0, 1].

Third-party methods register the same way and are found through the entry-point group
``fusionbench.methods`` (see CONTRIBUTING.md).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import types
import typing
import warnings
from dataclasses import dataclass
from importlib import metadata
from typing import Any, ClassVar

import numpy as np

from .io import _YCBCR_INVERSE, _YCBCR_MATRIX, _YCBCR_OFFSET

__all__ = [
    "FusionMethod",
    "MethodOutputError",
    "register_method",
    "list_methods",
    "get_method_class",
    "create_method",
    "fuse",
    "check_inputs",
    "required_params",
]

ENTRY_POINT_GROUP = "fusionbench.methods"

_METHODS: dict[str, type["FusionMethod"]] = {}
_loaded = False


# Half an 8-bit level: values this close outside [0, 1] save as 0 or 255 anyway.
OUTPUT_TOLERANCE = 0.5 / 255


class MethodOutputError(RuntimeError):
    """A method returned an image of the wrong shape, dtype or range, or non-finite values."""


@dataclass
class FusionMethod:
    """Base class of all fusion methods. Subclasses are dataclasses whose fields are the
    parameters, and implement :meth:`fuse_gray` (``color = "ycbcr"``) or :meth:`fuse_color`
    (``color = "native"``)."""

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    reference: ClassVar[str] = ""
    color: ClassVar[str] = "ycbcr"  # "ycbcr": shared colour policy; "native": fuse_color
    version: ClassVar[str] = "1"  # bump when the output changes (part of the cache key)
    clip_output: ClassVar[bool] = False  # True: overshoot of [0, 1] is by design; saturate it
    timed: ClassVar[bool] = True  # False: fuse() reads a stored result, its time is no method's speed

    def fuse(self, a: np.ndarray, b: np.ndarray, *, pair_name: str | None = None) -> np.ndarray:
        """Fuse two registered images; float32 in [0, 1] out, same height and width.

        ``a`` and ``b``: float in [0, 1] (or uint8/uint16, rescaled), shape (H, W) or (H, W, 3).
        ``pair_name`` identifies the pair for methods that look results up (``precomputed``).
        """
        a, b = check_inputs(a, b, self.name)
        if self.color == "native":
            if a.ndim != b.ndim:
                a, b = (np.repeat(x[..., np.newaxis], 3, axis=2) if x.ndim == 2 else x for x in (a, b))
            fused = self._checked(self.fuse_color(a, b), a.shape)
        elif a.ndim == 2 and b.ndim == 2:
            fused = self._checked(self.fuse_gray(a, b), a.shape)
        else:
            fused = self._fuse_ycbcr(a, b)
        return _unit_float32(fused)

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Fuse two gray float32 (H, W) images in [0, 1]."""
        raise NotImplementedError(f"{type(self).__name__} implements no gray fusion")

    def fuse_color(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Fuse two images of the same shape, (H, W) or (H, W, 3) (``color = "native"``)."""
        raise NotImplementedError(f"{type(self).__name__} implements no colour fusion")

    def params(self) -> dict[str, Any]:
        """The parameter values of this instance."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def identity(self) -> dict[str, Any]:
        """What determines this method's output: name, code version and parameters (cache key)."""
        return {"method": self.name, "version": self.version, "params": self.params()}

    def caveat(self) -> str:
        """A known limitation that readers of this method's scores must see (e.g. weights known
        to be under-trained), shown beside its results in the terminal and the report; ""
        when there is none. May depend on the parameters (e.g. which weights are used)."""
        return ""

    def _fuse_ycbcr(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        (ya, chroma_a), (yb, chroma_b) = _split_ycbcr(a), _split_ycbcr(b)
        y = np.asarray(self._checked(self.fuse_gray(ya, yb), a.shape[:2]), dtype=np.float32)
        if chroma_a is None or chroma_b is None:  # a gray side has neutral chroma: weight 0
            chroma = chroma_b if chroma_a is None else chroma_a
        else:
            # Chroma is centred on neutral here, so w = |C| and the rule is
            # (C_a |C_a| + C_b |C_b|) / (|C_a| + |C_b|), 0 (neutral) where both are 0.
            wa, wb = np.abs(chroma_a), np.abs(chroma_b)
            total = wa + wb
            wa *= chroma_a
            wb *= chroma_b
            wa += wb
            chroma = np.divide(wa, total, out=np.zeros_like(total), where=total > 0)
        return _merge_ycbcr(y, chroma)

    def _checked(self, fused: Any, shape: tuple[int, ...]) -> np.ndarray:
        """The method's own result, validated (see "Output contract" above), not yet clipped."""
        fused = np.asarray(fused)
        if fused.shape != shape:
            raise MethodOutputError(f"method {self.name!r} returned shape {fused.shape}, expected {shape}")
        if fused.dtype == np.uint8:
            return fused.astype(np.float32) / np.float32(255)
        if not np.issubdtype(fused.dtype, np.floating):
            raise MethodOutputError(
                f"method {self.name!r} returned dtype {fused.dtype}; return float32 in [0, 1] (or uint8 0..255)"
            )
        lo, hi = float(fused.min()), float(fused.max())
        if not (np.isfinite(lo) and np.isfinite(hi)):  # NaN propagates
            raise MethodOutputError(f"method {self.name!r} returned NaN or infinite values")
        if not self.clip_output and (lo < -OUTPUT_TOLERANCE or hi > 1 + OUTPUT_TOLERANCE):
            raise MethodOutputError(
                f"method {self.name!r} returned {fused.dtype} values in [{lo:g}, {hi:g}], outside the contract's "
                "[0, 1]: divide a 0..255 image by 255; a method that overshoots by design declares clip_output = True"
            )
        return fused


def _unit_float32(fused: np.ndarray) -> np.ndarray:
    """``fused`` copied into a new C-contiguous float32 array and clipped to [0, 1]."""
    out = np.empty(fused.shape, dtype=np.float32)
    if fused.flags.c_contiguous:
        return np.clip(fused, 0.0, 1.0, out=out, casting="unsafe")
    np.copyto(out, fused, casting="unsafe")  # e.g. colour planes: np.clip is slow on strided input
    return np.clip(out, 0.0, 1.0, out=out)


_TO_YCBCR = _YCBCR_MATRIX.astype(np.float32)
_FROM_YCBCR = _YCBCR_INVERSE.astype(np.float32)
_Y_OFFSET = np.float32(_YCBCR_OFFSET[0])


def _split_ycbcr(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Y (H, W) and chroma minus its neutral value 128/255, (2, H, W), of
    :func:`fusionbench.io.rgb_to_ycbcr`, in float32. A gray image is R = G = B: its Y is the
    gray image in studio swing and its chroma is neutral (returned as None)."""
    if image.ndim == 2:
        return _Y_OFFSET + _TO_YCBCR[0].sum() * image, None
    r, g, b = np.moveaxis(image, 2, 0).copy()  # planes: contiguous reads below
    y = _TO_YCBCR[0, 0] * r
    y += _TO_YCBCR[0, 1] * g
    y += _TO_YCBCR[0, 2] * b
    y += _Y_OFFSET
    chroma = np.empty((2,) + image.shape[:2], dtype=np.float32)
    for k in (1, 2):
        c = chroma[k - 1]
        np.multiply(r, _TO_YCBCR[k, 0], out=c)
        c += _TO_YCBCR[k, 1] * g
        c += _TO_YCBCR[k, 2] * b
    return y, chroma


def _merge_ycbcr(y: np.ndarray, chroma: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_split_ycbcr` (:func:`fusionbench.io.ycbcr_to_rgb`): RGB planes (3, H, W)
    float32, viewed as (H, W, 3) (:func:`_unit_float32` copies them into the result)."""
    y = y - _Y_OFFSET
    out = np.empty((3,) + y.shape, dtype=np.float32)
    for k in range(3):
        plane = out[k]
        np.multiply(y, _FROM_YCBCR[k, 0], out=plane)
        plane += _FROM_YCBCR[k, 1] * chroma[0]
        plane += _FROM_YCBCR[k, 2] * chroma[1]
    return np.moveaxis(out, 0, 2)


def check_inputs(a: Any, b: Any, context: str = "fuse") -> tuple[np.ndarray, np.ndarray]:
    """Validate a pair of source images and return them as float32 in [0, 1].

    Raises ``ValueError`` naming ``context`` for: non-array data, bad shapes, different
    sizes, NaN/inf, float values outside [0, 1], unsupported dtypes.
    """
    out = []
    for role, image in (("a", a), ("b", b)):
        image = np.asarray(image)
        where = f"{context}: input {role}"
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[..., 0]
        if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
            raise ValueError(f"{where} must have shape (H, W) or (H, W, 3), got {image.shape}")
        if image.shape[0] < 2 or image.shape[1] < 2:
            raise ValueError(f"{where} is {image.shape[0]}x{image.shape[1]}; need at least 2x2 pixels")
        if image.dtype == np.uint8:
            image = image.astype(np.float32) / np.float32(255)
        elif image.dtype == np.uint16:
            image = image.astype(np.float32) / np.float32(65535)
        elif np.issubdtype(image.dtype, np.floating):
            lo, hi = float(image.min()), float(image.max())  # NaN propagates into both
            if np.isnan(lo) or np.isnan(hi) or np.isinf(lo) or np.isinf(hi):
                raise ValueError(f"{where} contains NaN or infinite values")
            if lo < 0.0 or hi > 1.0:
                raise ValueError(
                    f"{where} has values in [{lo:g}, {hi:g}]; float images must be in [0, 1] "
                    "(use fusionbench.io.read_image, or divide 8-bit data by 255)"
                )
            image = image.astype(np.float32, copy=False)
        else:
            raise ValueError(f"{where} has dtype {image.dtype}; pass float in [0, 1], uint8 or uint16")
        out.append(image)
    if out[0].shape[:2] != out[1].shape[:2]:
        raise ValueError(
            f"{context}: inputs differ in size (a is {out[0].shape[1]}x{out[0].shape[0]}, "
            f"b is {out[1].shape[1]}x{out[1].shape[0]}, width x height); register/resize them to the same size first"
        )
    return out[0], out[1]


def register_method(name: str, *, family: str = "", reference: str = ""):
    """Class decorator: register a :class:`FusionMethod` subclass under ``name``."""

    def decorator(cls: type[FusionMethod]) -> type[FusionMethod]:
        if not (isinstance(cls, type) and issubclass(cls, FusionMethod)):
            raise TypeError(f"@register_method({name!r}) must decorate a FusionMethod subclass")
        if not dataclasses.is_dataclass(cls) or "__dataclass_fields__" not in cls.__dict__:
            cls = dataclass(cls)
        existing = _METHODS.get(name)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise ValueError(f"method name {name!r} is already registered by {existing.__module__}.{existing.__qualname__}")
        cls.name = name
        cls.family = family or cls.family
        cls.reference = reference or cls.reference
        _METHODS[name] = cls
        return cls

    return decorator


def _load_methods() -> None:
    """Import the built-in methods once, then the plugins; a broken plugin only warns."""
    global _loaded
    if _loaded:
        return
    import fusionbench.methods  # noqa: F401  (registers the built-ins; an error here is ours: raise)

    _loaded = True  # before the plugins, which may call list_methods() while they load
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            entry.load()
        except Exception as exc:  # a plugin must not break fusionbench or other plugins
            warnings.warn(
                f"fusionbench plugin {entry.name!r} ({entry.value}) failed to load and is skipped: "
                f"{type(exc).__name__}: {exc}",
                RuntimeWarning,
                stacklevel=2,
            )


def list_methods(pattern: str | None = None) -> list[str]:
    """Names of all registered methods (built-in and plugins), sorted, optionally filtered
    by a case-insensitive glob pattern."""
    _load_methods()
    names = sorted(_METHODS)
    if pattern is not None:
        names = [n for n in names if fnmatch.fnmatchcase(n.lower(), pattern.lower())]
    return names


def get_method_class(name: str) -> type[FusionMethod]:
    _load_methods()
    try:
        return _METHODS[name]
    except KeyError:
        raise KeyError(f"unknown method {name!r}; available: {', '.join(sorted(_METHODS))}") from None


def create_method(name: str | type[FusionMethod], **params: Any) -> FusionMethod:
    """Instantiate method ``name`` with parameters, e.g. ``create_method("gff", r1=45)``.

    ``name`` may also be the method class itself (the runner passes the class to its worker
    processes, where a method registered in the caller's script is not registered). The
    parameters are checked against the class's fields and their annotations.
    """
    cls = get_method_class(name) if isinstance(name, str) else name
    name = cls.name
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise TypeError(f"method {name!r} has no parameter(s) {unknown}; parameters: {sorted(known)}")
    missing = [n for n in required_params(cls) if n not in params]
    if missing:
        raise TypeError(f"method {name!r} needs the parameter(s) {missing}, e.g. create_method({name!r}, {missing[0]}=...)")
    hints = typing.get_type_hints(cls)
    return cls(**{key: _typed_param(name, key, value, hints.get(key)) for key, value in params.items()})


def _typed_param(method: str, key: str, value: Any, annotation: Any) -> Any:
    """``value`` checked against the parameter's annotation (bool, int, float, str, tuples of
    those, ``X | None``, ``Literal``); an int is accepted for a float and a list for a tuple.
    Raises TypeError naming the method, parameter, expected type and value (``levels=true``
    is not an int, although Python's bool is one)."""
    converted = _convert(value, annotation)
    if converted is _MISMATCH:
        raise TypeError(f"method {method!r}: parameter {key!r} must be {_describe(annotation)}, got {value!r}")
    return converted


_MISMATCH = object()


def _convert(value: Any, annotation: Any) -> Any:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is None or annotation is type(None):
        return None if value is None else _MISMATCH
    if origin in (typing.Union, types.UnionType):
        for option in args:
            converted = _convert(value, option)
            if converted is not _MISMATCH:
                return converted
        return _MISMATCH
    if origin is typing.Literal:
        return value if value in args and type(value) in {type(a) for a in args} else _MISMATCH
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            return _MISMATCH
        items = args[:1] * len(value) if len(args) == 2 and args[1] is Ellipsis else args
        if len(items) != len(value):
            return _MISMATCH
        converted = tuple(_convert(v, t) for v, t in zip(value, items))
        return _MISMATCH if _MISMATCH in converted else converted
    if annotation is bool:
        return value if isinstance(value, (bool, np.bool_)) else _MISMATCH
    if annotation is int:
        return int(value) if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) else _MISMATCH
    if annotation is float:
        ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
        return float(value) if ok else _MISMATCH
    if annotation is str:  # a path object is accepted where a path is a string parameter
        return os.fspath(value) if isinstance(value, (str, os.PathLike)) else _MISMATCH
    return value  # another annotation (a path, an array ...): the method checks it itself


def _describe(annotation: Any) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args)
    if origin is typing.Literal:
        return "one of " + ", ".join(map(repr, args))
    if origin is tuple:
        return f"a list of items that are each {_describe(args[0])}" if len(args) == 2 and args[1] is Ellipsis else f"a list of {len(args)} values"
    # A method spec's values are JSON where they parse, so a string of digits needs quotes.
    names = {bool: "true or false", int: "an integer", float: "a number", str: 'a string (in a spec: key="text" if it looks like a number)', type(None): "null"}
    return names.get(annotation, str(annotation))


def required_params(cls: type[FusionMethod]) -> list[str]:
    """Parameters of a method class that have no default value."""
    return [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]


def fuse(a: np.ndarray, b: np.ndarray, method: str = "average", *, pair_name: str | None = None, **params: Any) -> np.ndarray:
    """Fuse ``a`` and ``b`` with ``method`` (see :func:`list_methods`); ``pair_name`` is passed
    to methods that look results up by pair (``precomputed``)."""
    return create_method(method, **params).fuse(a, b, pair_name=pair_name)
