"""Scoring fused images made elsewhere: ``fusionbench score --dataset lytro DIR [DIR ...]``.

Each folder is one method (or, with a name pattern such as ``{pair}_{method}.jpg``, one folder
holds many methods). Its image files are matched to the dataset's pairs by name, tolerantly:
names are compared as sequences of letter and number tokens, case-insensitively, numbers by
value, separators ignored, so pair ``lytro-01`` matches ``lytro_01_X.jpg``, ``Lytro01.png``
and ``LYTRO-1-fused.tif``. When no file of a folder carries the full pair names, the parts that
tell the pairs apart are used (``01.png`` for ``lytro-01``). A pair with no file, or with
several, and a file that fits several pairs are reported; the matched files are scored as
``precomputed`` methods through :func:`fusionbench.runner.run`: the same cache, tables and
report as any run (no fuse time: the images were made elsewhere).
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from .datasets import DatasetPairs, open_dataset, select_pairs
from .datasets.catalog import IMAGE_SUFFIXES
from .runner import MethodSpec, RunResult, run

__all__ = ["FolderMatch", "match_folder", "score"]


@dataclass
class FolderMatch:
    """The files of one method in one folder, by pair, and what could not be matched."""

    label: str
    folder: Path
    files: dict[str, str] = field(default_factory=dict)  # pair -> file name
    missing: list[str] = field(default_factory=list)  # pairs without a file
    ambiguous: dict[str, list[str]] = field(default_factory=dict)  # pair or file -> candidates

    def describe(self) -> str:
        """One line: how many pairs matched, and each problem."""
        text = f"{self.label}: {len(self.files)} pairs matched in {self.folder}"
        if self.missing:
            text += f"; no file for {len(self.missing)}: {_shown(self.missing)}"
        for name, candidates in self.ambiguous.items():
            text += f"; {name} is ambiguous ({_shown(candidates)})"
        return text


def _shown(items: Sequence[str], count: int = 6) -> str:
    return ", ".join(items[:count]) + (f" and {len(items) - count} more" if len(items) > count else "")


def _tokens(text: str) -> list[str]:
    """Letter and number runs, lower case, numbers without leading zeros."""
    return [str(int(t)) if t.isdigit() else t for t in re.findall(r"[a-z]+|[0-9]+", text.lower())]


def _token_pattern(tokens: Sequence[str]) -> str:
    """A regex matching these tokens in a file name: any separators between them, any leading
    zeros on numbers, and no letter (number) running on before or after a letter (number) token."""
    parts = []
    for token in tokens:
        if token.isdigit():
            parts.append(f"(?<![0-9])0*{token}(?![0-9])")
        else:
            parts.append(f"(?<![a-z]){re.escape(token)}(?![a-z])")
    return "[^a-z0-9]*".join(parts)


def _pair_patterns(pair_names: Sequence[str], distinguishing: bool) -> dict[str, str]:
    tokens = {name: _tokens(name) for name in pair_names}
    if distinguishing:
        common = set.intersection(*(set(t) for t in tokens.values())) if len(tokens) > 1 else set()
        tokens = {name: [t for t in ts if t not in common] or ts for name, ts in tokens.items()}
    return {name: _token_pattern(ts) for name, ts in tokens.items()}


def match_folder(folder: str | os.PathLike, pair_names: Sequence[str], pattern: str | None = None, label: str | None = None) -> list[FolderMatch]:
    """Match the image files of ``folder`` to ``pair_names``.

    Without ``pattern`` the folder is one method (labelled ``label`` or the folder's name) and a
    file belongs to a pair when its name contains the pair's name (tolerantly, see the module
    doc). ``pattern`` (e.g. ``{pair}_{method}.jpg``) describes whole file names: ``{pair}``
    stands for a pair's name (tolerantly) and ``{method}`` for a method's name; every method
    found is one :class:`FolderMatch`, labelled with its name.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: not a folder of fused images")
    files = sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
    if not files:
        raise ValueError(f"{folder}: no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
    if pattern is not None and "{pair}" not in pattern:
        raise ValueError(f"--name-pattern {pattern!r} must contain {{pair}}, e.g. '{{pair}}_{{method}}.jpg'")
    for distinguishing in (False, True):
        found = _find(files, pair_names, pattern, _pair_patterns(pair_names, distinguishing))
        if any(found.values()):
            break
    default = label or folder.name
    by_method: dict[str, dict[str, set[str]]] = {}  # method -> file -> the pairs it fits
    for name, hits in found.items():
        for pair, method in hits:
            by_method.setdefault(method or default, {}).setdefault(name, set()).add(pair)
    matches = []
    for method, fits in sorted(by_method.items()):
        match = FolderMatch(f"{label}:{method}" if label and method != default else method, folder)
        for pair in pair_names:
            candidates = [name for name, pairs in fits.items() if pair in pairs]
            if not candidates:
                match.missing.append(pair)
            elif len(candidates) == 1 and len(fits[candidates[0]]) == 1:
                match.files[pair] = candidates[0]
            else:
                match.ambiguous[pair] = candidates
        match.ambiguous.update({name: sorted(pairs) for name, pairs in fits.items() if len(pairs) > 1})
        matches.append(match)
    return matches


def _find(files: list[str], pair_names: Sequence[str], pattern: str | None, pair_patterns: dict[str, str]) -> dict[str, list[tuple[str, str | None]]]:
    """file -> [(pair, method or None)] it fits."""
    found: dict[str, list[tuple[str, str | None]]] = {}
    for name in files:
        hits = []
        for pair in pair_names:
            if pattern is None:
                if re.search(pair_patterns[pair], Path(name).stem.lower()):
                    hits.append((pair, None))
                continue
            regex = re.escape(pattern.lower()).replace(re.escape("{pair}"), f"(?:{pair_patterns[pair]})")
            regex = regex.replace(re.escape("{method}"), "(?P<method>.+)")
            hit = re.fullmatch(regex, name.lower())
            if hit:
                method = name[hit.start("method") : hit.end("method")] if hit.groupdict().get("method") else None
                hits.append((pair, method))
        found[name] = hits
    return found


def score(
    dataset: str | os.PathLike | DatasetPairs,
    folders: Sequence[str],
    pattern: str | None = None,
    methods: Sequence[str] | None = None,
    *,
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    pairs: Sequence[str] | None = None,
    limit: int | None = None,
    on_matches: Callable[[list[FolderMatch]], None] | None = None,
    **run_options: Any,
) -> tuple[RunResult, list[FolderMatch]]:
    """Score the fused images in ``folders`` on ``dataset`` (see the module doc).

    ``folders``: paths, each optionally ``LABEL=PATH``. ``pattern``: a file-name pattern with
    ``{pair}`` and optionally ``{method}``. ``methods``: keep only these method labels (globs).
    ``pairs`` (globs) and ``limit`` select the dataset's pairs first.
    ``on_matches`` is called with the matches before any scoring (to show them). Other keyword
    arguments go to :func:`fusionbench.runner.run` (metrics, out, workers ...). Returns the
    run's result and the matches (:meth:`FolderMatch.describe` says what did not match).
    """
    if not isinstance(dataset, DatasetPairs):
        dataset = open_dataset(dataset, data_dir=data_dir, cache_dir=cache_dir, pairs=pairs, limit=limit)
    elif pairs or limit is not None:
        dataset = select_pairs(dataset, pairs, limit)
    pair_names = [p.name for p in dataset.pairs]
    matches = []
    for item in folders:
        label, sep, path = str(item).partition("=")
        if not sep or Path(item).exists():
            label, path = None, str(item)
        matches += match_folder(path, pair_names, pattern, label)
    if methods:
        matches = [m for m in matches if any(fnmatch.fnmatchcase(m.label, glob) for glob in methods)]
    crowded = [files for m in matches for files in m.ambiguous.values() if len(files) > 1]
    matches = [m for m in matches if m.files]
    if not matches:
        hint = ""
        if crowded and pattern is None:
            hint = (f"; every pair fits several files (e.g. {_shown(crowded[0], 3)}): if a folder holds several methods, "
                    "describe its file names with --name-pattern, e.g. '{pair}_{method}.jpg'")
        raise ValueError(f"no fused image in {', '.join(map(str, folders))} matches a pair of {dataset.name!r} ({_shown(pair_names, 3)} ...){hint}")
    labels = [m.label for m in matches]
    if len(set(labels)) != len(labels):
        raise ValueError(f"two folders give the same method label ({', '.join(sorted({l for l in labels if labels.count(l) > 1}))}); name them LABEL=FOLDER")
    if on_matches is not None:
        on_matches(matches)
    specs = [MethodSpec(m.label, "precomputed", {"folder": str(m.folder), "files": m.files}) for m in matches]
    return run(dataset, specs, data_dir=data_dir, cache_dir=cache_dir, **run_options), matches
