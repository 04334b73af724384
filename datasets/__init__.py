"""Dataset descriptors (real benchmark sets and the synthetic generator), opening datasets and
user folders of pairs, verification and download.

Descriptors are package data in this folder: ``<name>.toml`` (what the set is) and
``<name>.csv`` (every file with its size, sha256 and public URL). See
:mod:`fusionbench.datasets.catalog` for the layout and :mod:`fusionbench.paths` for where the
data root is.
"""

from .catalog import (
    Dataset,
    DatasetError,
    DatasetPairs,
    FileEntry,
    Pair,
    file_sha256,
    get_dataset,
    list_datasets,
    load_descriptor,
    open_dataset,
    scan_folder,
    select_pairs,
    verify,
)
from .download import ArchiveError, DownloadError, FetchReport, download_file, fetch, safe_extract

__all__ = [
    "ArchiveError",
    "Dataset",
    "DatasetError",
    "DatasetPairs",
    "DownloadError",
    "FetchReport",
    "FileEntry",
    "Pair",
    "download_file",
    "fetch",
    "file_sha256",
    "get_dataset",
    "list_datasets",
    "load_descriptor",
    "open_dataset",
    "safe_extract",
    "scan_folder",
    "select_pairs",
    "verify",
]
