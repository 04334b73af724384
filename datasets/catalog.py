"""Dataset descriptors and turning a dataset (or a user folder) into a list of source pairs.

A descriptor is package data, two files per dataset in this folder: ``<name>.toml`` (what the
set is: task, modality, roles, colour, pair naming, source, citation) and ``<name>.csv`` (one
row per file: pair, role, file path relative to the data root, bytes, width, height, PIL
mode, sha256, public URL at a fixed commit). The ``synthetic`` descriptor lists the pairs to
generate instead of files (see :mod:`fusionbench.datasets.synthetic`).

Where the files are looked for: the data root of :func:`fusionbench.paths.data_root`
(``--data-dir`` > ``$FUSIONBENCH_DATA`` > the user cache folder), as ``<root>/<file>``, e.g.
``<root>/lytro/lytro-01-A.jpg``. A user folder of pairs works too (:func:`scan_folder`).

Roles: every pair has two sources; the first role is the first input of a fusion method
(``a``), the second is ``b`` (A/B for multi-focus, IR/VIS, CT/PET/SPECT before MRI). An
optional third role ``GT`` is the ground truth.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

from PIL import Image, UnidentifiedImageError

from fusionbench.paths import data_root

__all__ = [
    "Dataset",
    "DatasetError",
    "DatasetPairs",
    "FileEntry",
    "Pair",
    "file_sha256",
    "get_dataset",
    "list_datasets",
    "load_descriptor",
    "open_dataset",
    "scan_folder",
    "select_pairs",
    "verify",
]

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
GT_ROLES = ("GT",)
# Roles that go first (input a) when a user folder has them; the other role is b.
FIRST_ROLES = ("A", "IR", "CT", "PET", "SPECT", "NEAR")
SECOND_ROLES = ("B", "VIS", "VI", "MRI", "MR", "FAR")


class DatasetError(ValueError):
    """A dataset is missing, incomplete, or a folder of pairs does not pair up; the message
    names the files and says how to fix it."""


@dataclass(frozen=True)
class FileEntry:
    """One file of a descriptor: where it goes under the data root and where it comes from."""

    pair: str
    role: str
    file: str
    bytes: int
    width: int
    height: int
    mode: str
    sha256: str
    url: str


@dataclass(frozen=True)
class Dataset:
    """A dataset descriptor (see the module docstring)."""

    name: str
    title: str
    task: str
    modality: str
    roles: tuple[str, str]
    colour: str
    pair_naming: str
    image_sizes: str = ""
    source: str = ""
    citation: str = ""
    notes: str = ""
    role_notes: str = ""
    files: tuple[FileEntry, ...] = ()
    generated: bool = False
    spec: dict[str, Any] = field(default_factory=dict, repr=False)
    archives: tuple[dict[str, Any], ...] = ()
    figure_pairs: tuple[str, ...] = ()  # pairs that reports show as image grids

    @property
    def pair_names(self) -> list[str]:
        if self.generated:
            return [p["name"] for p in self.spec.get("pairs", [])]
        return list(dict.fromkeys(f.pair for f in self.files))

    @property
    def total_bytes(self) -> int | None:
        return None if self.generated else sum(f.bytes for f in self.files)


@dataclass(frozen=True)
class Pair:
    """Two registered source images (``a`` = first role, ``b`` = second), an optional ground
    truth, and the expected sha256 of each file when a descriptor gives it."""

    name: str
    a: Path
    b: Path
    gt: Path | None = None
    expected_sha256: tuple[str | None, str | None] = (None, None)


@dataclass(frozen=True)
class DatasetPairs:
    """What the runner works on: a dataset's name, roles and its pairs with file paths."""

    name: str
    roles: tuple[str, str]
    folder: Path
    pairs: tuple[Pair, ...]
    descriptor: Dataset | None = None

    @property
    def task(self) -> str:
        return self.descriptor.task if self.descriptor else "unknown"


# ---------------------------------------------------------------- descriptors


def _package_files() -> Any:
    return resources.files("fusionbench.datasets")


def list_datasets() -> list[str]:
    """Names of the datasets with a descriptor, in a fixed order (real sets, then synthetic)."""
    names = sorted(p.name[: -len(".toml")] for p in _package_files().iterdir() if p.name.endswith(".toml"))
    return [n for n in names if n != "synthetic"] + (["synthetic"] if "synthetic" in names else [])


def get_dataset(name: str) -> Dataset:
    """The descriptor of a built-in dataset."""
    known = list_datasets()
    if name not in known:
        raise DatasetError(
            f"unknown dataset {name!r}; known datasets: {', '.join(known)} "
            "(or pass a folder of <pair>-<ROLE>.<ext> files)"
        )
    folder = _package_files()
    return _parse_descriptor(
        tomllib.loads(folder.joinpath(f"{name}.toml").read_text()),
        folder.joinpath(f"{name}.csv") if not name == "synthetic" else None,
    )


def load_descriptor(toml_path: str | os.PathLike) -> Dataset:
    """Read a descriptor from files (``X.toml`` and, unless generated, ``X.csv`` beside it);
    for users who add their own sets."""
    toml_path = Path(toml_path)
    meta = tomllib.loads(toml_path.read_text())
    csv_path = toml_path.with_suffix(".csv")
    return _parse_descriptor(meta, None if meta.get("generated") else csv_path)


def _parse_descriptor(meta: dict[str, Any], csv_file: Any) -> Dataset:
    name = meta["name"]
    roles = tuple(meta["roles"])
    if len(roles) != 2:
        raise DatasetError(f"descriptor {name}: 'roles' must name two roles, got {roles}")
    files: list[FileEntry] = []
    if csv_file is not None:
        with csv_file.open(newline="") as fh:
            for row in csv.DictReader(fh):
                files.append(
                    FileEntry(
                        pair=row["pair"],
                        role=row["role"],
                        file=row["file"],
                        bytes=int(row["bytes"]),
                        width=int(row["width"]),
                        height=int(row["height"]),
                        mode=row["mode"],
                        sha256=row["sha256"].lower(),
                        url=row["url"],
                    )
                )
        for entry in files:
            if entry.role not in roles and entry.role not in GT_ROLES:
                raise DatasetError(f"descriptor {name}: file {entry.file} has role {entry.role!r}, not one of {roles}")
            if _escapes(entry.file):
                raise DatasetError(f"descriptor {name}: file path {entry.file!r} must be relative and stay inside the data root")
    generated = bool(meta.get("generated", False))
    return Dataset(
        name=name,
        title=meta.get("title", name),
        task=meta.get("task", ""),
        modality=meta.get("modality", ""),
        roles=(roles[0], roles[1]),
        colour=meta.get("colour", ""),
        pair_naming=meta.get("pair_naming", ""),
        image_sizes=meta.get("image_sizes", ""),
        source=meta.get("source", ""),
        citation=meta.get("citation", ""),
        notes=meta.get("notes", ""),
        role_notes=meta.get("role_notes", ""),
        files=tuple(files),
        generated=generated,
        spec={k: meta[k] for k in ("size", "pairs") if k in meta} if generated else {},
        archives=tuple(meta.get("archives", ())),
        figure_pairs=tuple(meta.get("figure_pairs", ())),
    )


def _escapes(relative: str) -> bool:
    """True if a relative path is absolute or climbs out of its folder."""
    parts = Path(relative).parts
    return Path(relative).is_absolute() or ".." in parts or relative.startswith(("/", "\\"))


# ---------------------------------------------------------------- opening


def open_dataset(
    dataset: str | os.PathLike,
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    roles: Iterable[str] | None = None,
    pairs: Iterable[str] | None = None,
    limit: int | None = None,
) -> DatasetPairs:
    """The pairs of a built-in dataset (by name) or of a folder of pairs (by path).

    A name is looked up under the data root (:func:`fusionbench.paths.data_root`);
    ``synthetic`` is generated under the cache root on first use. Anything else that is an
    existing folder (or looks like a path) is scanned with :func:`scan_folder`; a dataset
    name wins over a folder of the same name (write ``./lytro`` for the folder). ``pairs``
    (globs) and ``limit`` select pairs as :func:`select_pairs` does, before the files are
    checked, so a problem with an unselected pair does not matter. Raises
    :class:`DatasetError` naming the missing files and the fix.
    """
    text = os.fspath(dataset)
    if text not in list_datasets() and (Path(text).expanduser().is_dir() or os.sep in text or text.startswith(".")):
        return scan_folder(Path(text).expanduser(), roles=roles, pairs=pairs, limit=limit)
    descriptor = get_dataset(text)
    if descriptor.generated:
        from .synthetic import materialise

        return select_pairs(materialise(descriptor, cache_dir), pairs, limit)
    return _descriptor_pairs(descriptor, data_root(data_dir), pairs, limit)


def _descriptor_pairs(descriptor: Dataset, root: Path, patterns: Iterable[str] | None = None, limit: int | None = None) -> DatasetPairs:
    selected = set(_select_names(descriptor.name, descriptor.pair_names, patterns, limit))
    files = [f for f in descriptor.files if f.pair in selected]
    missing = [f.file for f in files if not (root / f.file).is_file()]
    if missing:
        shown = ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
        raise DatasetError(
            f"dataset {descriptor.name!r}: {len(missing)} of {len(files)} files missing under "
            f"{root} (e.g. {shown}); run `fusionbench datasets fetch {descriptor.name}` or point "
            f"--data-dir / FUSIONBENCH_DATA at a folder that contains {descriptor.name}/"
        )
    by_pair: dict[str, dict[str, FileEntry]] = {}
    for entry in files:
        by_pair.setdefault(entry.pair, {})[entry.role] = entry
    first, second = descriptor.roles
    pairs = []
    for name, files in by_pair.items():
        gt = next((files[r] for r in GT_ROLES if r in files), None)
        pairs.append(
            Pair(
                name=name,
                a=root / files[first].file,
                b=root / files[second].file,
                gt=root / gt.file if gt else None,
                expected_sha256=(files[first].sha256, files[second].sha256),
            )
        )
    folder = root / Path(descriptor.files[0].file).parts[0] if descriptor.files else root
    return DatasetPairs(descriptor.name, descriptor.roles, folder, tuple(pairs), descriptor)


_ROLE_PATTERN = re.compile(r"^(?P<pair>.+)[-_](?P<role>[A-Za-z][A-Za-z0-9]*)$")


def scan_folder(folder: Path, roles: Iterable[str] | None = None, pairs: Iterable[str] | None = None, limit: int | None = None) -> DatasetPairs:
    """Pair up a folder of images named ``<pair>-<ROLE>.<ext>`` (or ``<pair>_<ROLE>.<ext>``).

    The folder must hold exactly two roles (case-insensitive: ``A``/``B``, ``IR``/``VIS``,
    ``CT``/``MRI`` ...) plus optionally ``GT`` (ground truth). The first role is input ``a``:
    the one in ``roles`` if given, else A, IR, CT, PET, SPECT before B, VIS, MRI, else
    alphabetical. Non-image files are ignored. ``pairs`` and ``limit`` select pairs first
    (:func:`select_pairs`). Raises :class:`DatasetError` listing every image that does not
    fit the pattern, every selected pair missing a role, and every selected pair whose
    images differ in size (with both files and sizes). An image that cannot be read is not
    an error here: its pair's tasks fail with the reason, the other pairs run.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a folder (pass a dataset name or a folder of <pair>-<ROLE>.<ext> files)")
    found: dict[str, dict[str, Path]] = {}
    problems: list[str] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
            continue
        match = _ROLE_PATTERN.match(path.stem)
        if not match:
            problems.append(f"{path.name}: name is not <pair>-<ROLE>.<ext> (e.g. scene01-A.png, 07-IR.png)")
            continue
        role = match["role"].upper()
        files = found.setdefault(match["pair"], {})
        if role in files:
            problems.append(f"{path.name}: pair {match['pair']!r} has two {role} files ({files[role].name} and {path.name})")
            continue
        files[role] = path
    if not found and not problems:
        raise DatasetError(f"{folder}: no images named <pair>-<ROLE>.<ext> ({', '.join(sorted(IMAGE_SUFFIXES))})")
    source_roles = sorted({r for files in found.values() for r in files} - set(GT_ROLES))
    if pairs is not None or limit is not None:
        found = {name: found[name] for name in _select_names(folder.name, sorted(found), pairs, limit)}
    order = _order_roles(source_roles, roles, folder)
    for pair, files in sorted(found.items()):
        for role in order:
            if role not in files:
                others = ", ".join(p.name for p in files.values())
                problems.append(f"{others}: no matching {role} file for pair {pair!r} (expected {pair}-{role}.<ext>)")
    pairs = []
    for pair, files in sorted(found.items()):
        if not all(role in files for role in order):
            continue
        sizes = {role: size for role in (*order, *GT_ROLES) if role in files and (size := _image_size(files[role])) is not None}
        if len(set(sizes.values())) > 1:
            listed = ", ".join(f"{files[r].name} {w}x{h}" for r, (w, h) in sizes.items())
            problems.append(f"pair {pair!r}: image sizes differ ({listed}); register/resize them to one size")
            continue
        gt = next((files[r] for r in GT_ROLES if r in files), None)
        pairs.append(Pair(pair, files[order[0]], files[order[1]], gt))
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise DatasetError(f"{folder}: {len(problems)} problem(s) with the pairs:\n  {shown}{more}")
    return DatasetPairs(folder.name, (order[0], order[1]), folder, tuple(pairs))


def _order_roles(found: list[str], requested: Iterable[str] | None, folder: Path) -> list[str]:
    if requested is not None:
        order = [r.upper() for r in requested]
        if len(order) != 2 or set(order) != set(found):
            raise DatasetError(f"{folder}: --roles {','.join(order)} does not match the roles found ({', '.join(found)})")
        return order
    if len(found) != 2:
        raise DatasetError(
            f"{folder}: expected exactly two source roles (plus optional GT), found {len(found)}: "
            f"{', '.join(found) or 'none'}; rename the files to <pair>-<ROLE>.<ext> with two roles"
        )
    first = [r for r in found if r in FIRST_ROLES]
    if len(first) == 1:
        return [first[0], next(r for r in found if r != first[0])]
    second = [r for r in found if r in SECOND_ROLES]
    if len(second) == 1:
        return [next(r for r in found if r != second[0]), second[0]]
    return found


def _image_size(path: Path) -> tuple[int, int] | None:
    """Width and height from the header, or None when the file cannot be read as an image
    (its tasks then fail with :class:`~fusionbench.io.ImageReadError`, naming it)."""
    try:
        with Image.open(path) as img:
            return img.size
    except (UnidentifiedImageError, OSError):
        return None


def select_pairs(pairs: DatasetPairs, patterns: Iterable[str] | None = None, limit: int | None = None) -> DatasetPairs:
    """Keep the pairs whose names match any of ``patterns`` (globs), then the first ``limit``."""
    kept = set(_select_names(pairs.name, [p.name for p in pairs.pairs], patterns, limit))
    return DatasetPairs(pairs.name, pairs.roles, pairs.folder, tuple(p for p in pairs.pairs if p.name in kept), pairs.descriptor)


def _select_names(dataset: str, names: list[str], patterns: Iterable[str] | None, limit: int | None) -> list[str]:
    """The names matching any of ``patterns`` (globs), in order, then the first ``limit``."""
    kept = list(names)
    if patterns:
        patterns = list(patterns)
        kept = [n for n in kept if any(fnmatch.fnmatchcase(n, pat) for pat in patterns)]
        if not kept:
            raise DatasetError(
                f"dataset {dataset!r}: no pair matches {', '.join(patterns)}; pairs are "
                f"{', '.join(names[:8])}{' ...' if len(names) > 8 else ''}"
            )
    if limit is not None:
        if limit < 1:
            raise DatasetError(f"dataset {dataset!r}: limit must be at least 1, got {limit}")
        kept = kept[:limit]
    return kept


# ---------------------------------------------------------------- checking


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """The sha256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class FileCheck:
    file: str
    status: str  # "ok", "missing", "size", "sha256"
    detail: str = ""


def verify(name: str, data_dir: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None) -> list[FileCheck]:
    """Check every file of a dataset: present, right size, right sha256. The generated
    ``synthetic`` set is checked by regenerating it and comparing pixels."""
    descriptor = get_dataset(name)
    if descriptor.generated:
        from .synthetic import verify_generated

        return verify_generated(descriptor, cache_dir)
    root = data_root(data_dir)
    checks = []
    for entry in descriptor.files:
        path = root / entry.file
        if not path.is_file():
            checks.append(FileCheck(entry.file, "missing", f"not found under {root}"))
            continue
        size = path.stat().st_size
        if size != entry.bytes:
            checks.append(FileCheck(entry.file, "size", f"{size} bytes, expected {entry.bytes}"))
            continue
        digest = file_sha256(path)
        if digest != entry.sha256:
            checks.append(FileCheck(entry.file, "sha256", f"sha256 {digest[:12]}..., expected {entry.sha256[:12]}..."))
            continue
        checks.append(FileCheck(entry.file, "ok"))
    return checks
