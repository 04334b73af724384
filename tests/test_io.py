"""fusionbench.io: reading every supported file kind, the error for unreadable files, MATLAB
rgb2gray / rgb2ycbcr conversions and rounding, write round trips. Files go to tmp_path."""

from __future__ import annotations

import errno
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fusionbench.io import (
    ImageReadError,
    read_image,
    read_image_native,
    rgb_to_ycbcr,
    round_half_away,
    to_gray,
    to_uint8,
    write_image,
    ycbcr_to_rgb,
)

RNG = np.random.default_rng(7)
GRAY8 = RNG.integers(0, 256, size=(5, 7), dtype=np.uint8)
RGB8 = RNG.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
GRAY16 = RNG.integers(0, 65536, size=(5, 7), dtype=np.uint16)


def _write_png(path: Path, array: np.ndarray, bit_depth: int, color_type: int) -> None:
    """A minimal PNG encoder, for files Pillow cannot write (16-bit colour)."""
    rows = array.reshape(array.shape[0], -1).astype(">u2" if bit_depth == 16 else "u1")
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", array.shape[1], array.shape[0], bit_depth, color_type, 0, 0, 0)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunks)


# ------------------------------------------------------------------------- lossless formats


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif"])
@pytest.mark.parametrize("image", [GRAY8, RGB8], ids=["gray", "rgb"])
def test_lossless_8bit_round_trip(tmp_path: Path, suffix: str, image: np.ndarray) -> None:
    path = tmp_path / f"img{suffix}"
    Image.fromarray(image).save(path)
    np.testing.assert_array_equal(read_image_native(path), image)
    out = read_image(path)
    assert out.dtype == np.float32 and out.shape == image.shape
    np.testing.assert_array_equal(out, (image / np.float32(255)).astype(np.float32))


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16bit_gray_keeps_full_precision(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"img{suffix}"
    Image.fromarray(GRAY16).save(path)
    native = read_image_native(path)
    assert native.dtype == np.uint16
    np.testing.assert_array_equal(native, GRAY16)
    np.testing.assert_allclose(read_image(path), GRAY16 / 65535.0, rtol=0, atol=1e-7)


def test_16bit_colour_png_warns_about_8bit_precision(tmp_path: Path) -> None:
    image = np.array([[[65535, 0, 1000], [258, 257, 256]]], dtype=np.uint16)
    path = tmp_path / "rgb16.png"
    _write_png(path, image, 16, 2)
    with pytest.warns(UserWarning, match="8-bit precision"):
        native = read_image_native(path)
    np.testing.assert_array_equal(native, image >> 8)


def test_jpeg_gray_and_rgb(tmp_path: Path) -> None:
    smooth = np.tile(np.linspace(0, 255, 16), (16, 1)).astype(np.uint8)
    for image in (smooth, np.stack([smooth, smooth.T, 255 - smooth], axis=-1)):
        path = tmp_path / "img.jpg"
        Image.fromarray(image).save(path, quality=95, subsampling=0)
        out = read_image(path)
        assert out.shape == image.shape and out.dtype == np.float32
        assert np.abs(out * 255 - image).max() < 12  # lossy, but the same picture


def test_rgba_drops_alpha_with_warning(tmp_path: Path) -> None:
    rgba = np.concatenate([RGB8, np.full((5, 7, 1), 128, np.uint8)], axis=-1)
    path = tmp_path / "rgba.png"
    Image.fromarray(rgba).save(path)
    with pytest.warns(UserWarning, match="alpha channel dropped"):
        out = read_image_native(path)
    np.testing.assert_array_equal(out, RGB8)


def test_gray_alpha_drops_alpha_with_warning(tmp_path: Path) -> None:
    path = tmp_path / "la.png"
    Image.fromarray(np.stack([GRAY8, GRAY8], axis=-1), mode="LA").save(path)
    with pytest.warns(UserWarning, match="alpha channel dropped"):
        np.testing.assert_array_equal(read_image_native(path), GRAY8)


def test_palette_image_is_converted_to_its_colours(tmp_path: Path) -> None:
    palette = np.array([[255, 0, 0], [0, 128, 255], [10, 20, 30]], dtype=np.uint8)
    index = RNG.integers(0, 3, size=(5, 7), dtype=np.uint8)
    img = Image.fromarray(index, mode="P")
    img.putpalette(palette.ravel().tolist())
    path = tmp_path / "pal.png"
    img.save(path)
    np.testing.assert_array_equal(read_image_native(path), palette[index])


def test_gray_palette_reads_as_gray(tmp_path: Path) -> None:
    levels = np.array([0, 77, 200, 255], dtype=np.uint8)
    index = RNG.integers(0, 4, size=(5, 7), dtype=np.uint8)
    img = Image.fromarray(index, mode="P")
    img.putpalette(np.repeat(levels, 3).tolist())
    path = tmp_path / "graypal.png"
    img.save(path)
    out = read_image_native(path)
    assert out.shape == (5, 7)
    np.testing.assert_array_equal(out, levels[index])


def test_palette_with_transparency_warns(tmp_path: Path) -> None:
    img = Image.fromarray(np.array([[0, 1], [1, 0]], dtype=np.uint8), mode="P")
    img.putpalette([255, 0, 0, 0, 255, 0])
    path = tmp_path / "paltrans.png"
    img.save(path, transparency=0)
    with pytest.warns(UserWarning, match="alpha"):
        out = read_image_native(path)
    np.testing.assert_array_equal(out[0, 1], [0, 255, 0])


def test_bilevel_image(tmp_path: Path) -> None:
    path = tmp_path / "bw.png"
    Image.fromarray(GRAY8 > 127).save(path)
    np.testing.assert_array_equal(read_image(path), (GRAY8 > 127).astype(np.float32))


# ----------------------------------------------------------------------------- bad files


def _corrupt_files(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "good.png"
    Image.fromarray(RNG.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)).save(good)
    data = good.read_bytes()
    files = {
        "missing": tmp_path / "missing.png",
        "garbage": tmp_path / "garbage.png",
        "truncated": tmp_path / "truncated.png",
        "text": tmp_path / "notes.txt",
        "truncated_jpeg": tmp_path / "truncated.jpg",
        "directory": tmp_path / "folder.png",
    }
    files["garbage"].write_bytes(bytes(RNG.integers(0, 256, size=300, dtype=np.uint8)))
    files["truncated"].write_bytes(data[: len(data) // 2])
    files["text"].write_text("not an image\n")
    Image.fromarray(RNG.integers(0, 256, size=(64, 64), dtype=np.uint8)).save(tmp_path / "ok.jpg")
    files["truncated_jpeg"].write_bytes((tmp_path / "ok.jpg").read_bytes()[:200])
    files["directory"].mkdir()
    return files


@pytest.mark.parametrize("kind", ["missing", "garbage", "truncated", "text", "truncated_jpeg", "directory"])
def test_unreadable_file_raises_image_read_error_naming_the_path(tmp_path: Path, kind: str) -> None:
    path = _corrupt_files(tmp_path)[kind]
    with pytest.raises(ImageReadError) as info:
        read_image(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, OSError)


# ------------------------------------------------------------------- colour conversions


def test_to_gray_matches_matlab_rgb2gray_on_uint8() -> None:
    rgb = np.array(
        [
            [255, 0, 0],  # 76.2287 -> 76
            [0, 255, 0],  # 149.696 -> 150
            [0, 0, 255],  # 29.075 -> 29
            [255, 255, 255],  # 254.99999999999974 -> 255 (coefficients sum to 0.999999999999999)
            [0, 0, 0],
            [246, 197, 108],  # 201.50000456469058 -> 202, the closest to .5 from above
            [0, 49, 138],  # 44.499995435309145 -> 44, the closest to .5 from below
            [12, 200, 3],  # 121.31... -> 121
        ],
        dtype=np.uint8,
    ).reshape(1, -1, 3)
    gray = to_gray(rgb)
    assert gray.dtype == np.uint8
    assert gray.ravel().tolist() == [76, 150, 29, 255, 0, 202, 44, 121]


def test_to_gray_uint16_and_float() -> None:
    white16 = np.full((1, 1, 3), 65535, dtype=np.uint16)
    assert to_gray(white16).dtype == np.uint16 and to_gray(white16)[0, 0] == 65535
    red = np.array([[[1.0, 0.0, 0.0]]])
    assert to_gray(red)[0, 0] == 0.298936021293775  # float input is not rounded
    np.testing.assert_array_equal(to_gray(GRAY8), GRAY8)  # gray passes through
    with pytest.raises(ValueError, match="shape"):
        to_gray(np.zeros((2, 2, 4)))


def test_rgb_to_ycbcr_known_values_of_matlab_rgb2ycbcr() -> None:
    rgb = np.array([[[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]])
    expected = np.array([[[235, 128, 128], [16, 128, 128], [16 + 65.481, 128 - 37.797, 240]]]) / 255
    np.testing.assert_allclose(rgb_to_ycbcr(rgb), expected, rtol=0, atol=1e-14)


def test_ycbcr_round_trip() -> None:
    rgb = RNG.random((6, 5, 3))
    np.testing.assert_allclose(ycbcr_to_rgb(rgb_to_ycbcr(rgb)), rgb, rtol=0, atol=1e-12)
    with pytest.raises(ValueError):
        rgb_to_ycbcr(np.zeros((4, 4)))


def test_round_half_away_from_zero_like_matlab_round() -> None:
    x = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 0.49999999999999994, -0.49999999999999994, 2.4, -2.6])
    assert round_half_away(x).tolist() == [1, 2, 3, -1, -3, 0, 0, 2, -3]


def test_to_uint8_rounds_half_away_and_clips() -> None:
    x = np.array([0.5 / 255 * 1.0000001, 2.5 / 255 * 1.0000001, -0.2, 1.3, 1.0])
    assert to_uint8(x).tolist() == [1, 3, 0, 255, 255]
    assert to_uint8(GRAY8) is GRAY8


# ------------------------------------------------------------------------------ writing


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif"])
def test_write_image_round_trip(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"out{suffix}"
    as_float = RGB8.astype(np.float32) / 255
    write_image(path, as_float)
    np.testing.assert_array_equal(read_image_native(path), RGB8)
    write_image(path, GRAY8)
    np.testing.assert_array_equal(read_image_native(path), GRAY8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(read_image(path), (GRAY8 / np.float32(255)).astype(np.float32))


def test_a_write_that_fails_midway_leaves_the_previous_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """write_image (and write_atomic under it) write beside the target and rename: a full disk
    leaves the previous image as it was, no partial file, and an error naming the target."""
    path = tmp_path / "out.png"
    write_image(path, GRAY8)
    before = path.read_bytes()

    def half_then_full_disk(self: Path, data: bytes) -> int:
        with open(self, "wb") as handle:
            handle.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", half_then_full_disk)
    with pytest.raises(OSError, match="No space left on device") as caught:
        write_image(path, RGB8)
    assert caught.value.filename == str(path) and caught.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]
    with pytest.raises(ValueError, match=r"no image format for the suffix '.xyz'"):
        write_image(tmp_path / "out.xyz", GRAY8)


def test_unsupported_mode_raises_image_read_error(tmp_path: Path) -> None:
    path = tmp_path / "float.tif"
    Image.fromarray(np.zeros((4, 5), dtype=np.float32)).save(path)  # mode 'F'
    with pytest.raises(ImageReadError, match=r"float\.tif: unsupported image mode 'F'"):
        read_image(path)
