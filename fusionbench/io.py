"""Image I/O and colour conversions, with every convention stated once.

Conventions used throughout fusionbench
---------------------------------------
* **Methods** take and return ``float32`` arrays in ``[0, 1]``: shape ``(H, W)`` for gray,
  ``(H, W, 3)`` for RGB. :func:`read_image` produces exactly that.
* **Metrics** compute on grayscale ``float64`` arrays on the ``[0, 255]`` scale, as the MATLAB
  reference code does (it calls ``double(imread(...))`` on 8-bit files).
  :func:`fusionbench.evaluate` accepts uint8 arrays, float arrays in ``[0, 1]`` or file paths:
  uint8 (and files, read at their native bit depth) are used as they are, float ``[0, 1]`` is
  multiplied by 255 (and snapped to the integers when it is 8-bit data held as float, i.e.
  within 1e-4 of them everywhere), 16-bit is multiplied by ``255 / 65535``; colour is
  converted to gray with :func:`to_gray` (MATLAB ``rgb2gray``: rounded to integers when the
  input is integer or 8-bit data, unrounded when it is other float data).
* **Colour spaces**: :func:`rgb_to_ycbcr` / :func:`ycbcr_to_rgb` are ITU-R BT.601 with the
  studio-swing offsets of MATLAB ``rgb2ycbcr`` (Y in [16, 235], Cb/Cr in [16, 240] on the
  8-bit scale), computed on float ``[0, 1]`` data.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

__all__ = [
    "ImageReadError",
    "read_image",
    "read_image_native",
    "write_image",
    "write_atomic",
    "to_gray",
    "rgb_to_ycbcr",
    "ycbcr_to_rgb",
    "round_half_away",
    "to_uint8",
]

# MATLAB rgb2gray coefficients (the rows of inv(T) in rgb2gray.m), 15 significant digits.
RGB2GRAY_COEFFS = (0.298936021293775, 0.587043074451121, 0.114020904255103)

# MATLAB rgb2ycbcr on [0,1] input: ycbcr = offset + M @ rgb (BT.601, studio swing).
_YCBCR_OFFSET = np.array([16.0, 128.0, 128.0]) / 255.0
_YCBCR_MATRIX = np.array(
    [
        [65.481, 128.553, 24.966],
        [-37.797, -74.203, 112.0],
        [112.0, -93.786, -18.214],
    ]
) / 255.0
_YCBCR_INVERSE = np.linalg.inv(_YCBCR_MATRIX)


class ImageReadError(OSError):
    """An image file could not be read; the message names the file and the likely fix."""


def round_half_away(x: np.ndarray) -> np.ndarray:
    """Round half away from zero (MATLAB ``round``), unlike numpy's round-half-to-even."""
    x = np.asarray(x, dtype=np.float64)
    magnitude = np.abs(x)
    whole = np.floor(magnitude)
    # Compare the fraction instead of computing floor(|x| + 0.5): that sum rounds up for
    # 0.49999999999999994, which MATLAB rounds to 0.
    return np.sign(x) * (whole + (magnitude - whole >= 0.5))


def read_image_native(path: str | os.PathLike) -> np.ndarray:
    """Read an image without rescaling: uint8 or uint16, shape (H, W) or (H, W, 3).

    Palette images are converted to RGB (or L when the palette is gray), alpha is dropped
    with a warning. Raises :class:`ImageReadError` naming the path for a missing, corrupt,
    truncated or unsupported file.
    """
    path = Path(path)
    if path.is_dir():
        raise ImageReadError(f"{path}: is a folder, not an image file")
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file")
    try:
        with Image.open(path) as img:
            img.load()
            arr = _pil_to_array(img, path)
    except ImageReadError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageReadError(
            f"{path}: cannot read image ({exc}); the file is corrupt, truncated or not an "
            "image format fusionbench reads (PNG, JPEG, BMP, TIFF) - re-export or re-download it"
        ) from exc
    return arr


def _pil_to_array(img: Image.Image, path: Path) -> np.ndarray:
    mode = img.mode
    if mode == "P":
        palette = np.asarray(img.getpalette() or [0, 0, 0]).reshape(-1, 3)
        gray_palette = bool(np.all(palette == palette[:, :1]))
        has_alpha = "transparency" in img.info
        target = ("LA" if has_alpha else "L") if gray_palette else ("RGBA" if has_alpha else "RGB")
        img = img.convert(target)
        mode = img.mode
    if mode in ("RGB", "RGBA", "LA") and img.format == "PNG" and _png_bit_depth(path) == 16:
        warnings.warn(
            f"{path}: 16-bit colour or gray+alpha PNG read at 8-bit precision (Pillow keeps "
            "only the high byte); convert it to 16-bit gray or 8-bit colour to avoid the loss",
            stacklevel=3,
        )
    if mode in ("RGBA", "LA"):
        warnings.warn(f"{path}: alpha channel dropped", stacklevel=3)
        img = img.convert("RGB" if mode == "RGBA" else "L")
        mode = img.mode
    if mode in ("1", "L"):
        return np.asarray(img.convert("L"), dtype=np.uint8)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(img, dtype=np.uint16)
    if mode == "I":
        arr = np.asarray(img)
        if arr.min() < 0 or arr.max() > 65535:
            raise ImageReadError(f"{path}: 32-bit integer image with values outside 0..65535")
        return arr.astype(np.uint16)
    if mode == "RGB":
        return np.asarray(img, dtype=np.uint8)
    if mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        return np.asarray(img.convert("RGB"), dtype=np.uint8)
    raise ImageReadError(
        f"{path}: unsupported image mode {mode!r}; convert it to 8- or 16-bit gray or RGB"
    )


def _png_bit_depth(path: Path) -> int:
    """Bit depth per channel from a PNG's IHDR chunk (byte 24 of the file)."""
    with open(path, "rb") as fh:
        header = fh.read(25)
    return header[24] if len(header) == 25 else 0


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image as float32 in [0, 1], shape (H, W) or (H, W, 3).

    PNG, JPEG, BMP and TIFF; 8- and 16-bit; gray, RGB, RGBA (alpha dropped with a warning),
    palette (converted). Raises :class:`ImageReadError` naming the path on failure.
    """
    arr = read_image_native(path)
    scale = 65535.0 if arr.dtype == np.uint16 else 255.0
    return (arr.astype(np.float32) / np.float32(scale)).astype(np.float32)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Quantise a float [0, 1] image to uint8 (round half away, clip), as saving to 8-bit does."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    return np.clip(round_half_away(np.asarray(image, dtype=np.float64) * 255.0), 0, 255).astype(
        np.uint8
    )


def write_image(path: str | os.PathLike, image: np.ndarray) -> None:
    """Write a float [0, 1] or uint8 image as an 8-bit file (format from the suffix),
    atomically (:func:`write_atomic`): a full disk leaves no truncated image."""
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: no image format for the suffix {path.suffix!r}; use e.g. .png, .tif, .bmp or .jpg")
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buffer, format=fmt)
    write_atomic(path, buffer.getvalue())


def write_atomic(path: str | os.PathLike, data: bytes | str) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` through a temporary file beside it that is
    renamed into place (atomic on POSIX and Windows): a failed write (full disk, interrupt)
    leaves the previous file whole and no partial one. Creates the folder. An
    :class:`OSError` names ``path`` (``exc.filename``) and keeps ``errno``/``strerror``."""
    path = Path(path)
    # A name unique to this process and thread (cheaper than mkstemp; writers never share it).
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):  # e.g. a read-only folder
            tmp.unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def to_gray(image: np.ndarray) -> np.ndarray:
    """Convert RGB to gray exactly as MATLAB ``rgb2gray``; gray input is returned unchanged.

    For uint8/uint16 input the weighted sum ``0.298936021293775 R + 0.587043074451121 G +
    0.114020904255103 B`` is computed in float64, rounded half away from zero and clipped to
    the integer range (same dtype out). For float input it is not rounded (float64 out).
    """
    image = np.asarray(image)
    if image.ndim == 2:
        return image
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"to_gray expects (H, W) or (H, W, 3), got shape {image.shape}")
    r, g, b = (image[..., k].astype(np.float64) for k in range(3))
    gray = RGB2GRAY_COEFFS[0] * r + RGB2GRAY_COEFFS[1] * g + RGB2GRAY_COEFFS[2] * b
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        return np.clip(round_half_away(gray), info.min, info.max).astype(image.dtype)
    return gray


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """RGB float [0, 1] -> YCbCr float (BT.601 studio swing, MATLAB ``rgb2ycbcr`` on doubles)."""
    rgb = np.asarray(rgb, dtype=np.float64)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"rgb_to_ycbcr expects (H, W, 3), got shape {rgb.shape}")
    return rgb @ _YCBCR_MATRIX.T + _YCBCR_OFFSET


def ycbcr_to_rgb(ycbcr: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_ycbcr` (MATLAB ``ycbcr2rgb`` on doubles); not clipped."""
    ycbcr = np.asarray(ycbcr, dtype=np.float64)
    if ycbcr.ndim != 3 or ycbcr.shape[2] != 3:
        raise ValueError(f"ycbcr_to_rgb expects (H, W, 3), got shape {ycbcr.shape}")
    return (ycbcr - _YCBCR_OFFSET) @ _YCBCR_INVERSE.T
