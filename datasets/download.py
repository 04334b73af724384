"""Downloading a dataset into the data root: sha256-verified, resumable, archive-safe.

``fetch(name)`` downloads every file of a descriptor that is not already present with the
right sha256, to ``<data root>/<file>``:

* each download goes to ``<file>.part`` first and is renamed into place only when its sha256
  matches the descriptor, so a file under its final name is always complete and verified;
* an interrupted download resumes: an existing ``.part`` is continued with an HTTP
  ``Range: bytes=<size>-`` request (a server that ignores Range and answers 200 restarts the
  file from the beginning);
* ``mirror`` replaces each file's URL by ``<mirror>/<file>`` (a local or institutional copy
  laid out like the data root);
* descriptors may name archives (``[[archives]]`` in the TOML: ``url``, ``sha256``, optional
  ``prefix``); an archive is verified, then its members under ``prefix`` are extracted into
  ``<data root>/<dataset>/`` (prefix stripped) and checked against the file list; any member whose
  path is absolute, contains ``..``, or is a link or device is refused
  (:class:`ArchiveError`) before anything is written.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable
from urllib.error import HTTPError, URLError
from urllib.parse import quote
from urllib.request import Request, urlopen

from fusionbench.paths import data_root

from .catalog import Dataset, DatasetError, file_sha256, get_dataset

__all__ = ["ArchiveError", "DownloadError", "FetchReport", "download_file", "fetch", "safe_extract"]

USER_AGENT = "fusionbench-datasets"
CHUNK = 1 << 16


class DownloadError(OSError):
    """A download failed or its bytes do not match the expected sha256."""


class ArchiveError(DatasetError):
    """An archive member would land outside the target folder (or is a link/device)."""


@dataclass(frozen=True)
class FetchReport:
    downloaded: list[str]
    present: list[str]
    bytes_downloaded: int


def fetch(
    name: str | Dataset,
    data_dir: str | os.PathLike | None = None,
    mirror: str | None = None,
    timeout: float = 60.0,
    on_file: Callable[[str, str], None] | None = None,
) -> FetchReport:
    """Download the missing or damaged files of dataset ``name`` into the data root.

    ``on_file(file, status)`` is called per file with status ``"present"`` or
    ``"downloaded"`` (for progress output). Raises :class:`DownloadError` naming the URL on
    a network failure or checksum mismatch; files already verified stay in place, and the
    partial file stays for the next call to resume.
    """
    descriptor = name if isinstance(name, Dataset) else get_dataset(name)
    if descriptor.generated:
        raise DatasetError(f"dataset {descriptor.name!r} is generated locally on first use; nothing to fetch")
    root = data_root(data_dir)
    downloaded: list[str] = []
    present: list[str] = []
    total = 0
    pending = [e for e in descriptor.files if not _is_verified(root / e.file, e.bytes, e.sha256)]
    if pending and descriptor.archives:
        for archive in descriptor.archives:
            _fetch_archive(archive, descriptor.name, root, mirror, timeout)
        pending = [e for e in pending if not _is_verified(root / e.file, e.bytes, e.sha256)]
        if pending:
            raise DownloadError(
                f"dataset {descriptor.name!r}: after extracting the archives, {len(pending)} file(s) are "
                f"missing or wrong (e.g. {pending[0].file}); the archive does not match the descriptor"
            )
    for entry in descriptor.files:
        dest = root / entry.file
        if entry not in pending:
            present.append(entry.file)
            if on_file:
                on_file(entry.file, "present")
            continue
        url = f"{mirror.rstrip('/')}/{quote(entry.file)}" if mirror else entry.url
        total += download_file(url, dest, entry.sha256, timeout=timeout)
        downloaded.append(entry.file)
        if on_file:
            on_file(entry.file, "downloaded")
    return FetchReport(downloaded, present, total)


def _is_verified(path: Path, size: int, sha256: str) -> bool:
    return path.is_file() and path.stat().st_size == size and file_sha256(path) == sha256


def download_file(url: str, dest: str | os.PathLike, sha256: str, timeout: float = 60.0) -> int:
    """Download ``url`` to ``dest`` via ``dest.part``, resuming a partial file with HTTP Range;
    verify ``sha256`` before renaming into place. Returns the number of bytes transferred."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    transferred = 0
    try:
        with urlopen(Request(url, headers=headers), timeout=timeout) as response:
            status = response.status
            mode = "ab" if offset and status == 206 else "wb"
            with open(part, mode) as fh:
                while block := response.read(CHUNK):
                    fh.write(block)
                    transferred += len(block)
    except HTTPError as exc:
        if exc.code == 416 and offset:  # the partial file is already complete (or longer)
            pass
        else:
            raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except (URLError, TimeoutError, ConnectionError) as exc:
        raise DownloadError(f"{url}: download failed ({exc}); run the command again to resume") from exc
    digest = file_sha256(part)
    if digest != sha256:
        part.unlink()
        raise DownloadError(
            f"{url}: sha256 {digest} does not match the descriptor's {sha256}; the partial file was "
            "deleted (the source changed or the transfer was corrupted) - run the command again"
        )
    os.replace(part, dest)
    return transferred


def _fetch_archive(archive: dict, dataset: str, root: Path, mirror: str | None, timeout: float) -> None:
    url = archive["url"]
    name = PurePosixPath(url.split("?")[0]).name
    if mirror:
        url = f"{mirror.rstrip('/')}/{quote(name)}"
    downloads = root / ".downloads"
    path = downloads / name
    if not (path.is_file() and file_sha256(path) == archive["sha256"]):
        download_file(url, path, archive["sha256"], timeout=timeout)
    safe_extract(path, root / dataset, prefix=archive.get("prefix", ""))


def _member_target(target: Path, name: str, prefix: str) -> Path | None:
    """Where archive member ``name`` goes under ``target`` (None: outside ``prefix``, skipped);
    raises :class:`ArchiveError` for absolute paths and ``..``."""
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or ".." in posix.parts or (posix.parts and posix.parts[0].endswith(":")):
        raise ArchiveError(f"archive member {name!r} would be written outside {target}; refusing to extract")
    if prefix:
        try:
            posix = posix.relative_to(prefix)
        except ValueError:
            return None
    resolved = (target / Path(*posix.parts)).resolve() if posix.parts else target.resolve()
    if resolved != target.resolve() and target.resolve() not in resolved.parents:
        raise ArchiveError(f"archive member {name!r} would be written outside {target}; refusing to extract")
    return resolved


def safe_extract(archive: str | os.PathLike, target: str | os.PathLike, prefix: str = "") -> list[Path]:
    """Extract a .zip/.tar/.tar.gz/.tgz into ``target``, members under ``prefix`` only.

    Every member is checked before anything is written: absolute paths, ``..`` components,
    symbolic/hard links and devices raise :class:`ArchiveError`. Returns the files written.
    """
    archive, target = Path(archive), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            plan = []
            for info in zf.infolist():
                is_link = (info.external_attr >> 16) & 0o170000 == 0o120000
                if is_link:
                    raise ArchiveError(f"{archive}: member {info.filename!r} is a symbolic link; refusing to extract")
                dest = _member_target(target, info.filename, prefix)
                if dest is not None and not info.is_dir():
                    plan.append((info, dest))
            for info, dest in plan:
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)
                written.append(dest)
        return written
    try:
        tf = tarfile.open(archive)
    except tarfile.TarError as exc:
        raise ArchiveError(f"{archive}: not a zip or tar archive ({exc})") from exc
    with tf:
        plan = []
        for member in tf.getmembers():
            if not (member.isfile() or member.isdir()):
                raise ArchiveError(
                    f"{archive}: member {member.name!r} is a link or special file; refusing to extract"
                )
            dest = _member_target(target, member.name, prefix)
            if dest is not None and member.isfile():
                plan.append((member, dest))
        for member, dest in plan:
            dest.parent.mkdir(parents=True, exist_ok=True)
            src = tf.extractfile(member)
            assert src is not None  # regular files always have data
            with src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out)
            written.append(dest)
    return written
