"""Write the per-dataset file lists ``datasets/<name>.csv`` from the shared datasets folder.

Run by a maintainer when a dataset is added or its source moves; the CSVs are package data
(``fusionbench.datasets``) and fusionbench never reads the shared folder's manifest itself::

    .venv/bin/python tools/build_dataset_descriptors.py ../shared/datasets

Each row: pair, role, file (relative to the data root), bytes, width, height, PIL mode,
sha256 and the public URL of the file at a fixed commit of its source repository (the
commits of the shared folder's README, expanded to full SHAs). Rows are in the manifest's
order (A side before B side for each pair).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from urllib.parse import quote

# Full commit SHAs of the source repositories named in the shared datasets README.
SOURCE_COMMITS = {
    "Zoufu1122/UFA-Fusion": "220687adf3ba68a6add189bb76c95907721960f9",
    "Zhaozixiang1228/MMIF-CDDFuse": "fd8da1f39d8d403b7343e577bd5a30cba38c7b7b",
    "xingchenzhang/MFIFB": "a3cc5104613c97c58e9c9f9da9fd075bd72c12f8",
}
DATASETS = (
    "lytro",
    "tno",
    "medical-ct-mri",
    "medical-pet-mri",
    "medical-spect-mri",
    "roadscene",
    "mffw",
    "mfifb",
)
COLUMNS = ("pair", "role", "file", "bytes", "width", "height", "mode", "sha256", "url")


def raw_url(repo: str, path: str) -> str:
    return f"https://raw.githubusercontent.com/{repo}/{SOURCE_COMMITS[repo]}/{quote(path)}"


def main(shared: Path, out: Path) -> None:
    with open(shared / "MANIFEST.csv", newline="") as fh:
        manifest = list(csv.DictReader(fh))
    for name in DATASETS:
        rows = [r for r in manifest if r["dataset"] == name]
        if not rows:
            raise SystemExit(f"{shared / 'MANIFEST.csv'} has no rows for dataset {name!r}")
        with open(out / f"{name}.csv", "w", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(COLUMNS)
            for r in rows:
                size = (shared / r["file"]).stat().st_size
                url = raw_url(r["source_repo"], r["source_path"])
                writer.writerow(
                    [r["pair"], r["role"], r["file"], size, r["width"], r["height"], r["mode"], r["sha256"], url]
                )
        print(f"{name}: {len(rows)} files -> {out / (name + '.csv')}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: build_dataset_descriptors.py SHARED_DATASETS_FOLDER")
    main(Path(sys.argv[1]), Path(__file__).resolve().parent.parent / "datasets")
