"""Synthetic multi-focus training pairs for UFA-Fuse, made on the fly (paper Sec. III-C).

From a sharp source image I_s (the ground truth) and a binary focus map I_f:

* I_b = I_s mean-filtered with a k x k box, k drawn from one of the paper's four intervals
  [2, 3], [4, 5], [5, 7], [8, 10] (interval uniformly, then k uniformly inside it);
* near = I_s * I_f + I_b * (1 - I_f), far = I_b * I_f + I_s * (1 - I_f)  (Eq. 11);
* a random crop, random horizontal / vertical flips, and a random swap of which of near /
  far is the first input.

Nothing is written to disk; sample ``i`` of a dataset with seed ``s`` depends only on
``(s, i)`` (its own ``numpy`` generator), so a training run that is stopped and resumed sees
exactly the same batches.

Image + mask sources (:class:`ImageSource`):

* ``bsds500`` - BSDS500 images with their first human segmentation (the layout of
  ``datasets/bsds500`` in the shared data: ``images/<split>/<id>.jpg``,
  ``segments/<split>/<id>.png`` label maps). The focus map is one segment or a union of
  segments of the crop, grown in random order until it covers a random 25-75 % of the crop
  (BSDS has no salient-object masks; segments play their role). Train + val splits train,
  the test split gives held-out validation pairs.
* a DUTS-style folder - ``DUTS-TR-Image/<name>.jpg`` with ``DUTS-TR-Mask/<name>.png``
  saliency maps, binarised at half the maximum (paper step ii), as the paper used.
  Validation pairs come from ``DUTS-TE-Image``/``DUTS-TE-Mask`` when present, else from the
  last images in sorted order (left out of training).
* ``skimage`` - the natural images bundled with scikit-image (works offline) with generated
  focus maps: thresholded smooth random fields (blobs). Two images are held out for
  validation.

All images are float32 RGB in [0, 1] (gray images are replicated to three channels); images
smaller than the crop are enlarged (bilinear) until the crop fits.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np
from PIL import Image
from scipy import ndimage

__all__ = [
    "BLUR_INTERVALS",
    "ImageSource",
    "Sample",
    "MultiFocusDataset",
    "bsds500_source",
    "duts_source",
    "skimage_source",
    "resolve_source",
    "draw_blur_size",
    "mean_filter",
]

# Mean-filter sizes of the paper (Sec. III-C), inclusive intervals.
BLUR_INTERVALS: tuple[tuple[int, int], ...] = ((2, 3), (4, 5), (5, 7), (8, 10))

# Fraction of the crop covered by the focus map of a segment-based sample.
FOCUS_FRACTION = (0.25, 0.75)

SKIMAGE_TRAIN = (
    "astronaut", "camera", "chelsea", "rocket", "brick", "grass", "gravel", "moon",
    "immunohistochemistry", "hubble_deep_field", "retina", "cell",
)
SKIMAGE_VALIDATION = ("coffee", "coins")


@dataclass(frozen=True)
class ImageSource:
    """A list of images and how to get each one's focus map.

    ``kind``: ``"segments"`` (``masks`` are label maps), ``"saliency"`` (``masks`` are gray
    saliency maps) or ``"generated"`` (no masks; ``images`` are scikit-image names).
    """

    name: str
    kind: str
    images: tuple[str, ...]
    masks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.images:
            raise ValueError(f"image source {self.name!r} has no images")
        if self.kind != "generated" and len(self.masks) != len(self.images):
            raise ValueError(f"image source {self.name!r}: {len(self.images)} images but {len(self.masks)} masks")

    def __len__(self) -> int:
        return len(self.images)

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Image ``index`` as float32 (H, W, 3) in [0, 1] and its label map / saliency map
        (int32 (H, W) labels or bool (H, W) mask; None for generated masks)."""
        if self.kind == "generated":
            return _skimage_image(self.images[index]), None
        image_path, mask_path = self.images[index], self.masks[index]
        image = _as_rgb(np.asarray(_open(image_path)))
        mask = np.asarray(_open(mask_path))
        if mask.ndim == 3:
            mask = mask[..., 0]
        if mask.shape != image.shape[:2]:
            raise ValueError(f"{mask_path}: mask is {mask.shape[1]}x{mask.shape[0]} but its image "
                             f"{image_path} is {image.shape[1]}x{image.shape[0]}")
        if self.kind == "saliency":
            mask = mask >= max(int(mask.max()), 1) / 2.0
        else:
            mask = mask.astype(np.int32)
        return image, mask


@functools.lru_cache(maxsize=16)
def _skimage_image(name: str) -> np.ndarray:
    """A scikit-image sample image as float32 RGB (cached: a few small files, read often)."""
    from skimage import data as skdata

    image = _as_rgb(getattr(skdata, name)())
    image.flags.writeable = False
    return image


def _open(path: str) -> Image.Image:
    try:
        with Image.open(path) as img:
            img.load()
            return img.copy()
    except (OSError, ValueError) as exc:
        raise OSError(f"{path}: cannot read training image ({exc})") from exc


def _as_rgb(image: np.ndarray) -> np.ndarray:
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if image.ndim == 2:
        image = np.repeat(image[..., np.newaxis], 3, axis=2)
    image = image[..., :3]
    scale = 65535.0 if image.dtype == np.uint16 else 255.0
    return (image.astype(np.float32) / np.float32(scale)).astype(np.float32)


def bsds500_source(root: str | os.PathLike, splits: Sequence[str] = ("train", "val")) -> ImageSource:
    """BSDS500 in the shared-data layout (``images/<split>/*.jpg``, ``segments/<split>/*.png``)."""
    root = Path(root)
    images, masks = [], []
    for split in splits:
        folder = root / "images" / split
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: BSDS500 split {split!r} not found; expected "
                                    f"{root}/images/<split>/*.jpg and {root}/segments/<split>/*.png")
        for image in sorted(folder.glob("*.jpg")):
            mask = root / "segments" / split / f"{image.stem}.png"
            if not mask.is_file():
                raise FileNotFoundError(f"{mask}: segmentation of {image} is missing")
            images.append(str(image))
            masks.append(str(mask))
    return ImageSource(f"bsds500:{'+'.join(splits)}", "segments", tuple(images), tuple(masks))


def duts_source(root: str | os.PathLike, role: str = "train", held_out: int = 8) -> ImageSource:
    """A folder laid out like DUTS: ``DUTS-TR-Image/*.jpg`` + ``DUTS-TR-Mask/*.png``.

    ``role="validation"`` uses ``DUTS-TE-*`` when present, else the last ``held_out`` images
    of the training folder (which ``role="train"`` then leaves out).
    """
    root = Path(root)

    def pairs(prefix: str) -> list[tuple[str, str]]:
        image_dir, mask_dir = root / f"{prefix}-Image", root / f"{prefix}-Mask"
        if not image_dir.is_dir():
            return []
        found = []
        for image in sorted(p for p in image_dir.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp")):
            mask = mask_dir / f"{image.stem}.png"
            if not mask.is_file():
                raise FileNotFoundError(f"{mask}: mask of {image} is missing")
            found.append((str(image), str(mask)))
        return found

    train = pairs("DUTS-TR")
    if not train:
        raise FileNotFoundError(f"{root}: no DUTS-TR-Image/*.jpg found (expected a DUTS-style folder, "
                                "or use --data bsds500 / skimage)")
    test = pairs("DUTS-TE")
    if role == "validation":
        chosen = test[:held_out] if test else train[-held_out:]
    elif test or len(train) <= held_out:
        chosen = train
    else:
        chosen = train[:-held_out]
    return ImageSource(f"duts:{root.name}:{role}", "saliency", tuple(p[0] for p in chosen), tuple(p[1] for p in chosen))


def skimage_source(role: str = "train") -> ImageSource:
    """Natural images bundled with scikit-image (offline), masks generated per sample."""
    names = SKIMAGE_VALIDATION if role == "validation" else SKIMAGE_TRAIN
    return ImageSource(f"skimage:{role}", "generated", names)


def resolve_source(data: str, role: str = "train", data_dir: str | os.PathLike | None = None) -> ImageSource:
    """The :class:`ImageSource` for a ``--data`` value: ``"bsds500"`` (under ``data_dir`` or
    ``$FUSIONBENCH_DATA``), ``"skimage"``, or a folder (DUTS layout, or BSDS500 layout)."""
    if role not in ("train", "validation"):
        raise ValueError(f"role must be 'train' or 'validation', got {role!r}")
    if data == "skimage":
        return skimage_source(role)
    if data == "bsds500":
        base = data_dir or os.environ.get("FUSIONBENCH_DATA")
        if not base:
            raise ValueError("--data bsds500 needs --data-dir or FUSIONBENCH_DATA (the folder holding bsds500/)")
        root = Path(base)
        root = root if (root / "images").is_dir() else root / "bsds500"
        return bsds500_source(root, ("train", "val") if role == "train" else ("test",))
    root = Path(data)
    if not root.is_dir():
        raise ValueError(f"--data {data!r}: not 'bsds500', 'skimage' or an existing folder")
    if (root / "images").is_dir() and (root / "segments").is_dir():
        return bsds500_source(root, ("train", "val") if role == "train" else ("test",))
    return duts_source(root, role)


def draw_blur_size(rng: np.random.Generator) -> int:
    """A mean-filter size: one of :data:`BLUR_INTERVALS` uniformly, then a size in it."""
    lo, hi = BLUR_INTERVALS[rng.integers(len(BLUR_INTERVALS))]
    return int(rng.integers(lo, hi + 1))


def mean_filter(image: np.ndarray, size: int) -> np.ndarray:
    """``size`` x ``size`` box mean of each channel of an (H, W, 3) image (mirror borders)."""
    return ndimage.uniform_filter(image, size=(size, size, 1), mode="reflect").astype(np.float32)


def _segment_focus(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Union of segments, in random order, until a random fraction of the area is covered."""
    ids, counts = np.unique(labels, return_counts=True)
    target = rng.uniform(*FOCUS_FRACTION) * labels.size
    order = rng.permutation(len(ids))
    chosen, covered = [], 0
    for k in order:
        if covered >= target or (chosen and covered + counts[k] > FOCUS_FRACTION[1] * labels.size):
            continue
        chosen.append(ids[k])
        covered += counts[k]
    return np.isin(labels, chosen)


def _generated_focus(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Blobs: a smoothed random field thresholded at a random quantile."""
    sigma = rng.uniform(0.05, 0.2) * min(shape)
    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
    return field > np.quantile(field, 1.0 - rng.uniform(*FOCUS_FRACTION))


class Sample(NamedTuple):
    """One synthetic triple (float32 (H, W, 3) in [0, 1]) and how it was made.

    ``near`` is sharp where ``mask`` is True, ``far`` where it is False, ``gt`` everywhere;
    ``swapped``: the network's first input is ``far`` (see :meth:`inputs`).
    """

    near: np.ndarray
    far: np.ndarray
    gt: np.ndarray
    mask: np.ndarray
    blur_size: int
    swapped: bool
    image_index: int

    def inputs(self) -> tuple[np.ndarray, np.ndarray]:
        return (self.far, self.near) if self.swapped else (self.near, self.far)


def _blur_window(image: np.ndarray, y: int, x: int, crop: int, size: int) -> np.ndarray:
    """``mean_filter(image, size)[y:y+crop, x:x+crop]``, computed on the window plus a margin
    (mirror borders only where the window meets the image border, as for the whole image)."""
    margin = size  # > size // 2 + 1: the box never reaches past the margin
    y0, x0 = max(0, y - margin), max(0, x - margin)
    y1, x1 = min(image.shape[0], y + crop + margin), min(image.shape[1], x + crop + margin)
    blurred = mean_filter(image[y0:y1, x0:x1], size)
    return blurred[y - y0 : y - y0 + crop, x - x0 : x - x0 + crop]


def _crop_box(shape: tuple[int, int], crop: int, rng: np.random.Generator) -> tuple[int, int]:
    return int(rng.integers(shape[0] - crop + 1)), int(rng.integers(shape[1] - crop + 1))


def _fit(image: np.ndarray, mask: np.ndarray | None, crop: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Enlarge an image (and its mask, nearest) whose short side is below ``crop``."""
    h, w = image.shape[:2]
    if min(h, w) >= crop:
        return image, mask
    zoom = crop / min(h, w)
    image = np.clip(ndimage.zoom(image, (zoom, zoom, 1), order=1), 0, 1).astype(np.float32)
    if mask is not None:
        mask = ndimage.zoom(mask, zoom, order=0)[: image.shape[0], : image.shape[1]]
    if min(image.shape[:2]) < crop:  # rounding in zoom
        pad = ((0, max(0, crop - image.shape[0])), (0, max(0, crop - image.shape[1])))
        image = np.pad(image, (*pad, (0, 0)), mode="edge")
        mask = None if mask is None else np.pad(mask, pad, mode="edge")
    return image, mask


class MultiFocusDataset:
    """A ``torch.utils.data.Dataset`` of synthetic multi-focus triples (see module docstring).

    ``dataset[i]`` is ``(a, b, gt)``: float32 torch tensors (3, crop, crop) in [0, 1], ``a``
    and ``b`` the two differently focused inputs. :meth:`sample` gives the full record.
    ``length`` is nominal (pairs are generated, any index works).
    """

    def __init__(self, source: ImageSource, crop: int = 256, seed: int = 0, length: int = 1_000_000) -> None:
        if crop < 8:
            raise ValueError(f"crop must be at least 8 pixels, got {crop}")
        self.source = source
        self.crop = int(crop)
        self.seed = int(seed)
        self.length = int(length)

    def __len__(self) -> int:
        return self.length

    def sample(self, index: int) -> Sample:
        rng = np.random.default_rng([self.seed, int(index)])
        image_index = int(rng.integers(len(self.source)))
        image, labels = self.source.load(image_index)
        image, labels = _fit(image, labels, self.crop)
        blur_size = draw_blur_size(rng)
        # Flip the whole image first, so that the (even-sized, off-centre) box blur is the
        # same function of the crop as of any other image.
        for axis, flip in enumerate(rng.integers(2, size=2)):
            if flip:
                image = np.flip(image, axis=axis)
                labels = None if labels is None else np.flip(labels, axis=axis)
        # Prefer crops in which the focus map has both values (a few tries).
        for _ in range(4):
            y, x = _crop_box(image.shape[:2], self.crop, rng)
            window = (slice(y, y + self.crop), slice(x, x + self.crop))
            if labels is None:
                mask = _generated_focus((self.crop, self.crop), rng)
            elif labels.dtype == bool:
                mask = labels[window]
            else:
                mask = _segment_focus(labels[window], rng)
            if mask.any() and not mask.all():
                break
        gt = np.ascontiguousarray(image[window])
        soft = _blur_window(image, y, x, self.crop, blur_size)
        mask = np.ascontiguousarray(mask)
        m = mask[..., np.newaxis]
        near = np.where(m, gt, soft)
        far = np.where(m, soft, gt)
        return Sample(near, far, gt, mask, blur_size, bool(rng.integers(2)), image_index)

    def __getitem__(self, index: int):
        import torch

        s = self.sample(index)
        a, b = s.inputs()
        return tuple(torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1))) for x in (a, b, s.gt))
