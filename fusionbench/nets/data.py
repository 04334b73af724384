"""Training data of fusionbench's networks, generated on the fly from natural images.

Nothing is written to disk: sample ``i`` of a dataset with seed ``s`` depends only on
``(s, i)`` (its own ``numpy`` generator), so a training run that is stopped and resumed sees
exactly the same batches. Every dataset maps an index to a dict of float32 tensors
(images (C, H, W) in [0, 1]); :func:`collate` stacks them into batches.

Datasets (the kinds of supervision fusion networks use):

* :class:`MultiFocusDataset` - supervised multi-focus pairs with ground truth and focus mask,
  made as UFA-Fuse's paper does (Sec. III-C): from a sharp image I_s (the ground truth) and a
  binary focus map I_f, I_b = I_s mean-filtered with a k x k box (k drawn from one of the
  paper's intervals [2, 3], [4, 5], [5, 7], [8, 10]: interval uniformly, then k in it);
  near = I_s * I_f + I_b * (1 - I_f), far = I_b * I_f + I_s * (1 - I_f) (Eq. 11); a random
  crop, random horizontal / vertical flips and a random swap of which of near / far comes
  first. Keys ``a``, ``b``, ``gt`` and ``mask`` (1 where ``a`` is the sharp input).
* :class:`ReconstructionDataset` - crops of natural images for autoencoders (key ``image``).
* :class:`SourcePairDataset` - source pairs without ground truth for unsupervised losses
  (keys ``a``, ``b``): multi-focus pairs as above, or exposure pairs (under / over-exposed).
* :class:`PatchPairDataset` - small patch pairs for focus classifiers (keys ``a``, ``b``,
  ``label``): the same patch sharp and Gaussian-blurred, label 1 when ``a`` is the sharp one.

All take ``channels``: 3 (RGB) or 1 (gray by MATLAB's ``rgb2gray`` weights).

Image + mask sources (:class:`ImageSource`, :func:`resolve_source` for ``--data``):

* ``bsds500`` - BSDS500 images with their first human segmentation (the layout of
  ``datasets/bsds500`` in the shared data: ``images/<split>/<id>.jpg``,
  ``segments/<split>/<id>.png`` label maps). The focus map is one segment or a union of
  segments of the crop, grown in random order until it covers a random 25-75 % of the crop
  (BSDS has no salient-object masks; segments play their role). Train + val splits train,
  the test split gives held-out validation samples. This is fusionbench's training source:
  never train on the test sets (Lytro, TNO, medical).
* a DUTS-style folder - ``DUTS-TR-Image/<name>.jpg`` with ``DUTS-TR-Mask/<name>.png``
  saliency maps, binarised at half the maximum (paper step ii), as the UFA-Fuse paper used.
  Validation samples come from ``DUTS-TE-Image``/``DUTS-TE-Mask`` when present, else from the
  last images in sorted order (left out of training).
* ``skimage`` - the natural images bundled with scikit-image (works offline) with generated
  focus maps: thresholded smooth random fields (blobs). Two images are held out for
  validation.

All images are float32 RGB in [0, 1] (gray images are replicated to three channels); images
smaller than the crop are enlarged (bilinear) until the crop fits. Decoded files are kept in
a per-process cache (:data:`DECODE_CACHE_SIZE` files).
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

from ..io import RGB2GRAY_COEFFS

__all__ = [
    "BLUR_INTERVALS",
    "ImageSource",
    "Sample",
    "MultiFocusDataset",
    "ReconstructionDataset",
    "SourcePairDataset",
    "PatchPairDataset",
    "PatchSample",
    "collate",
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

    def image(self, index: int) -> np.ndarray:
        """Image ``index`` as float32 (H, W, 3) in [0, 1] (its mask not read)."""
        if self.kind == "generated":
            return _skimage_image(self.images[index])
        return _as_rgb(_decoded(self.images[index]))

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Image ``index`` as float32 (H, W, 3) in [0, 1] and its label map / saliency map
        (int32 (H, W) labels or bool (H, W) mask; None for generated masks)."""
        if self.kind == "generated":
            return _skimage_image(self.images[index]), None
        image_path, mask_path = self.images[index], self.masks[index]
        image = _as_rgb(_decoded(image_path))
        mask = _decoded(mask_path)
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


# Decoded files kept per process: BSDS500's 400 training images and their label maps take
# about 250 MB as decoded; decoding a JPEG is a third of a 256x256 sample's cost.
DECODE_CACHE_SIZE = 1024


@functools.lru_cache(maxsize=DECODE_CACHE_SIZE)
def _decoded(path: str) -> np.ndarray:
    """The pixels of an image file as PIL decodes them (read-only, cached)."""
    try:
        with Image.open(path) as img:
            img.load()
            pixels = np.asarray(img.copy())
    except (OSError, ValueError) as exc:
        raise OSError(f"{path}: cannot read training image ({exc})") from exc
    pixels.flags.writeable = False
    return pixels


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


class _Generated:
    """Base of the generated datasets: ``source``, sample size ``crop``, ``seed``, ``channels``
    (3: RGB, 1: gray by MATLAB's rgb2gray weights); ``length`` is nominal (any index works)."""

    def __init__(self, source: ImageSource, crop: int = 256, seed: int = 0, length: int = 1_000_000,
                 channels: int = 3) -> None:
        if crop < 8:
            raise ValueError(f"crop must be at least 8 pixels, got {crop}")
        if channels not in (1, 3):
            raise ValueError(f"channels must be 1 (gray) or 3 (RGB), got {channels}")
        self.source = source
        self.crop = int(crop)
        self.seed = int(seed)
        self.length = int(length)
        self.channels = int(channels)

    def __len__(self) -> int:
        return self.length

    def _rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, int(index)])

    def _tensor(self, image: np.ndarray):
        """(H, W, 3) float32 -> (C, H, W) torch tensor; gray by rgb2gray when ``channels == 1``."""
        import torch

        if self.channels == 1:
            return torch.from_numpy(np.ascontiguousarray(image @ _RGB2GRAY)[np.newaxis])
        return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))

    def _flipped_crop(self, image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, int, int]:
        """Random flips of the whole image, then a random ``crop`` x ``crop`` window: (image, y, x)."""
        for axis, flip in enumerate(rng.integers(2, size=2)):
            if flip:
                image = np.flip(image, axis=axis)
        y, x = _crop_box(image.shape[:2], self.crop, rng)
        return image, y, x


_RGB2GRAY = np.asarray(RGB2GRAY_COEFFS, dtype=np.float32)


class MultiFocusDataset(_Generated):
    """Synthetic multi-focus pairs with ground truth (see the module docstring).

    ``dataset[i]``: ``{"a", "b", "gt"}`` float32 tensors (C, crop, crop) in [0, 1], ``a`` and
    ``b`` the two differently focused inputs, and ``"mask"`` (1, crop, crop): 1 where ``a`` is
    the sharp input, 0 where ``b`` is. :meth:`sample` gives the full record.
    """

    def sample(self, index: int) -> Sample:
        rng = self._rng(index)
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

    def __getitem__(self, index: int) -> dict:
        import torch

        s = self.sample(index)
        a, b = s.inputs()
        sharp_a = ~s.mask if s.swapped else s.mask
        return {"a": self._tensor(a), "b": self._tensor(b), "gt": self._tensor(s.gt),
                "mask": torch.from_numpy(sharp_a[np.newaxis].astype(np.float32))}


class ReconstructionDataset(_Generated):
    """Crops of natural images for autoencoders (e.g. DenseFuse, SESF-Fuse): a random image,
    random flips, a random ``crop`` x ``crop`` window. ``dataset[i]``: ``{"image": (C, crop, crop)}``."""

    def __getitem__(self, index: int) -> dict:
        rng = self._rng(index)
        image = _fit(self.source.image(int(rng.integers(len(self.source)))), None, self.crop)[0]
        image, y, x = self._flipped_crop(image, rng)
        return {"image": self._tensor(image[y : y + self.crop, x : x + self.crop])}


# Exposure pairs: each side is shifted by this many stops (uniform) in linear light (gamma 2.2).
EXPOSURE_STOPS = (1.0, 3.0)
GAMMA = 2.2


class SourcePairDataset(_Generated):
    """Source pairs without ground truth, for unsupervised losses (e.g. DeepFuse's MEF-SSIM,
    MFF-GAN). ``dataset[i]``: ``{"a", "b"}`` (C, crop, crop).

    ``kind="multi-focus"``: the inputs of :class:`MultiFocusDataset` sample ``i`` (same seed,
    same pairs). ``kind="exposure"``: an under- and an over-exposed version of one crop: the
    image is linearised (``x ** 2.2``), multiplied by ``2 ** -s_u`` and ``2 ** s_o`` with
    ``s_u, s_o`` uniform in :data:`EXPOSURE_STOPS`, clipped to [0, 1] (the sensor saturates)
    and gamma-encoded again; which one comes first is random.
    """

    KINDS = ("multi-focus", "exposure")

    def __init__(self, source: ImageSource, crop: int = 256, seed: int = 0, length: int = 1_000_000,
                 channels: int = 3, kind: str = "multi-focus") -> None:
        super().__init__(source, crop, seed, length, channels)
        if kind not in self.KINDS:
            raise ValueError(f"unknown source-pair kind {kind!r}; choose one of {self.KINDS}")
        self.kind = kind
        self._multi_focus = MultiFocusDataset(source, crop, seed, length, channels)

    def __getitem__(self, index: int) -> dict:
        if self.kind == "multi-focus":
            s = self._multi_focus.sample(index)
            a, b = s.inputs()
            return {"a": self._tensor(a), "b": self._tensor(b)}
        rng = self._rng(index)
        image = _fit(self.source.image(int(rng.integers(len(self.source)))), None, self.crop)[0]
        image, y, x = self._flipped_crop(image, rng)
        linear = image[y : y + self.crop, x : x + self.crop] ** np.float32(GAMMA)
        under, over = (np.clip(linear * np.float32(2.0 ** (sign * rng.uniform(*EXPOSURE_STOPS))), 0, 1)
                       ** np.float32(1 / GAMMA) for sign in (-1, 1))
        a, b = (over, under) if rng.integers(2) else (under, over)
        return {"a": self._tensor(a.astype(np.float32)), "b": self._tensor(b.astype(np.float32))}


class PatchPairDataset(_Generated):
    """Patch pairs for a focus classifier (Liu et al., Information Fusion 36, 2017: 16x16 patches
    of natural images and Gaussian-blurred versions of them).

    A random patch of ``crop`` x ``crop`` pixels (after random flips) and the same patch blurred
    ``level`` times (``level`` uniform in 1..``max_level``) by a Gaussian of standard deviation
    ``sigma`` cut off at ``radius`` pixels (a (2 radius + 1)^2 kernel; Liu et al.: sigma 2, 7x7,
    five levels, each level blurring the previous one). The blur is computed on the patch plus a
    margin of ``level * radius`` pixels, mirrored only at the image border, so it equals the blur
    of the whole image. With probability 1/2 the sharp patch is ``a`` (``label`` 1), else ``b``
    (``label`` 0). ``dataset[i]``: ``{"a", "b"}`` (C, crop, crop) and ``"label"`` (a float32 scalar).
    Gray by default (``channels=1``), as Liu et al. trained.
    """

    def __init__(self, source: ImageSource, crop: int = 16, seed: int = 0, length: int = 1_000_000,
                 channels: int = 1, sigma: float = 2.0, radius: int = 3, max_level: int = 5) -> None:
        super().__init__(source, crop, seed, length, channels)
        if sigma <= 0 or radius < 1 or max_level < 1:
            raise ValueError("sigma must be > 0, radius and max_level >= 1")
        self.sigma, self.radius, self.max_level = float(sigma), int(radius), int(max_level)

    def sample(self, index: int) -> "PatchSample":
        rng = self._rng(index)
        image_index = int(rng.integers(len(self.source)))
        image = _fit(self.source.image(image_index), None, self.crop)[0]
        level = int(rng.integers(1, self.max_level + 1))
        image, y, x = self._flipped_crop(image, rng)
        margin = level * self.radius
        y0, x0 = max(0, y - margin), max(0, x - margin)
        blurred = image[y0 : min(image.shape[0], y + self.crop + margin), x0 : min(image.shape[1], x + self.crop + margin)]
        for _ in range(level):
            blurred = ndimage.gaussian_filter(blurred, (self.sigma, self.sigma, 0), mode="reflect",
                                              truncate=self.radius / self.sigma)
        sharp = np.ascontiguousarray(image[y : y + self.crop, x : x + self.crop])
        soft = blurred[y - y0 : y - y0 + self.crop, x - x0 : x - x0 + self.crop].astype(np.float32)
        return PatchSample(sharp, soft, int(rng.integers(2)), level, image_index)

    def __getitem__(self, index: int) -> dict:
        import torch

        s = self.sample(index)
        a, b = (s.sharp, s.soft) if s.label else (s.soft, s.sharp)
        return {"a": self._tensor(a), "b": self._tensor(b), "label": torch.tensor(float(s.label))}


class PatchSample(NamedTuple):
    """One patch pair of :class:`PatchPairDataset` (float32 (crop, crop, 3)): the sharp patch,
    its blurred version, the label (1: ``a`` is the sharp one), the blur level and the image."""

    sharp: np.ndarray
    soft: np.ndarray
    label: int
    level: int
    image_index: int


def collate(items: Sequence[dict]) -> dict:
    """Stack samples (dicts of tensors) into a batch (a dict of tensors with a leading batch axis)."""
    import torch

    return {key: torch.stack([item[key] for item in items]) for key in items[0]}
