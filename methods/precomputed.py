"""Already-fused images read from a folder, so other authors' published results (e.g. the
MFIFB fused images in ``reference-results/mfifb-lytro/``) are scored like any method.

``create_method("precomputed", folder=".../mfifb-lytro", pattern="{pair}_GFF.jpg")`` then
``fuse(a, b, pair_name="lytro_01")`` returns ``<folder>/lytro_01_GFF.jpg`` read as float32
[0, 1]. ``files={"lytro-01": "lytro_01_GFF.jpg", ...}`` names each pair's file instead (what
``fusionbench score`` passes after matching a folder's file names to the pairs). The sources
are still checked (``check_inputs``) and the stored image must have their size. Channels
follow the sources: a gray file for colour sources is replicated to RGB, an RGB file for gray
sources is converted with MATLAB ``rgb2gray`` (what the metrics do anyway). No fuse time is
reported: reading a file says nothing about the method that made it.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from fusionbench.io import read_image, to_gray
from fusionbench.registry import FusionMethod, _unit_float32, check_inputs, register_method


@register_method("precomputed", family="precomputed", reference="fused images read from <folder>/<pattern> by pair name")
class Precomputed(FusionMethod):
    """Look the fused image up by pair name: ``<folder>/<pattern with {pair} replaced>``."""

    color: ClassVar[str] = "native"
    timed: ClassVar[bool] = False

    folder: str
    pattern: str = "{pair}.png"
    files: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if self.files is not None:
            if not isinstance(self.files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in self.files.items()):
                raise TypeError(f"precomputed: files must map pair names to file names, got {self.files!r}")
        elif "{pair}" not in self.pattern:
            raise ValueError(f"precomputed: pattern {self.pattern!r} must contain '{{pair}}', e.g. '{{pair}}_GFF.jpg'")
        try:
            self.pattern.format(pair="x")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"precomputed: pattern {self.pattern!r} may only use the field {{pair}} ({exc})") from None
        self.folder = str(self.folder)

    def path_for(self, pair_name: str) -> Path:
        if self.files is not None:
            return Path(self.folder) / self.files.get(pair_name, "")
        return Path(self.folder) / self.pattern.format(pair=pair_name)

    def fuse(self, a: np.ndarray, b: np.ndarray, *, pair_name: str | None = None) -> np.ndarray:
        a, b = check_inputs(a, b, self.name)
        if not pair_name:
            raise ValueError(
                f"precomputed: fuse() needs pair_name= to find the image {self.folder}/{self.pattern} "
                "(the runner passes the pair's name; on the command line use --pair)"
            )
        if self.files is not None and pair_name not in self.files:
            raise FileNotFoundError(f"precomputed: no fused image of pair {pair_name!r} among the files matched in {self.folder}")
        path = self.path_for(pair_name)
        if not path.is_file():
            raise FileNotFoundError(
                f"precomputed: no fused image for pair {pair_name!r}: {path} does not exist "
                f"(folder={self.folder!r}, pattern={self.pattern!r})"
            )
        fused = read_image(path)
        if fused.shape[:2] != a.shape[:2]:
            raise ValueError(
                f"precomputed: {path} is {fused.shape[1]}x{fused.shape[0]} but the sources of pair "
                f"{pair_name!r} are {a.shape[1]}x{a.shape[0]}; is it the result for another pair?"
            )
        color = max(a.ndim, b.ndim) == 3
        if color and fused.ndim == 2:
            fused = np.repeat(fused[..., np.newaxis], 3, axis=2)
        elif not color and fused.ndim == 3:
            fused = to_gray(fused)
        return _unit_float32(self._checked(fused, (*a.shape[:2], 3) if color else a.shape[:2]))
