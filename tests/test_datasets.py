"""Dataset descriptors, the data root, user folders of pairs, the synthetic set, verify and fetch.

Fetching is tested against a local HTTP server on 127.0.0.1 (with HTTP Range support) that
serves the shared datasets folder; nothing reaches the internet.
"""

from __future__ import annotations

import dataclasses
import io
import re
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pytest
from PIL import Image

from fusionbench import paths
from fusionbench.cli import main
from fusionbench.datasets import (
    ArchiveError,
    DatasetError,
    DownloadError,
    download_file,
    fetch,
    file_sha256,
    get_dataset,
    list_datasets,
    load_descriptor,
    open_dataset,
    safe_extract,
    scan_folder,
    verify,
)
from fusionbench.datasets.synthetic import focus_mask, generate_pair

# Pair counts documented for the shared sets (datasets README).
EXPECTED_PAIRS = {
    "lytro": 20,
    "tno": 25,
    "medical-ct-mri": 21,
    "medical-pet-mri": 42,
    "medical-spect-mri": 73,
    "roadscene": 50,
    "mffw": 13,
    "mfifb": 105,
    "synthetic": 6,
}


# ---------------------------------------------------------------- descriptors


def test_every_documented_dataset_has_a_descriptor_with_its_pair_count():
    assert set(list_datasets()) == set(EXPECTED_PAIRS)
    for name, pairs in EXPECTED_PAIRS.items():
        assert len(get_dataset(name).pair_names) == pairs, name


@pytest.mark.parametrize("name", [n for n in EXPECTED_PAIRS if n != "synthetic"])
def test_descriptor_files_are_complete_pairs_with_pinned_urls_and_checksums(name):
    d = get_dataset(name)
    assert len(d.files) == 2 * len(d.pair_names)
    for entry in d.files:
        assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256), entry
        # A raw URL at a full 40-hex commit: the bytes behind it never change.
        assert re.match(r"https://raw\.githubusercontent\.com/[^/]+/[^/]+/[0-9a-f]{40}/", entry.url), entry.url
        assert entry.file.startswith(f"{name}/") and entry.bytes > 0
    for pair in d.pair_names:
        assert {e.role for e in d.files if e.pair == pair} == set(d.roles)


def test_roles_follow_the_input_order_convention():
    assert get_dataset("tno").roles == ("IR", "VIS")
    assert get_dataset("medical-pet-mri").roles == ("PET", "MRI")
    assert get_dataset("lytro").roles == ("A", "B")


def test_unknown_dataset_names_the_known_ones():
    with pytest.raises(DatasetError, match="known datasets: lytro"):
        get_dataset("lytr0")


def test_load_descriptor_from_user_files_rejects_escaping_paths(tmp_path):
    (tmp_path / "mine.toml").write_text('name = "mine"\nroles = ["A", "B"]\n')
    (tmp_path / "mine.csv").write_text(
        "pair,role,file,bytes,width,height,mode,sha256,url\n"
        f"p,A,../outside-A.png,1,2,2,L,{'0' * 64},http://x/a\n"
    )
    with pytest.raises(DatasetError, match="stay inside the data root"):
        load_descriptor(tmp_path / "mine.toml")


# ---------------------------------------------------------------- data root


def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("FUSIONBENCH_DATA", str(tmp_path / "env"))
    assert paths.data_root(tmp_path / "arg") == tmp_path / "arg"
    assert paths.data_root() == tmp_path / "env"
    monkeypatch.delenv("FUSIONBENCH_DATA")
    assert paths.data_root() == paths.user_cache_root() / "datasets"


def test_missing_dataset_says_how_to_get_it(tmp_path):
    with pytest.raises(DatasetError, match=r"40 of 40 files missing.*fusionbench datasets fetch lytro"):
        open_dataset("lytro", data_dir=tmp_path)


# ---------------------------------------------------------------- user folders


def _write(path: Path, shape=(8, 10), value=100) -> None:
    Image.fromarray(np.full(shape, value, dtype=np.uint8)).save(path)


def test_folder_of_pairs_with_modality_roles(tmp_path):
    for pair in ("01", "02"):
        _write(tmp_path / f"{pair}-VIS.png")
        _write(tmp_path / f"{pair}-IR.png")
    (tmp_path / "README.txt").write_text("not an image: ignored")
    pairs = scan_folder(tmp_path)
    assert pairs.roles == ("IR", "VIS")  # IR is input a, whatever the file order
    assert [p.name for p in pairs.pairs] == ["01", "02"]
    assert pairs.pairs[0].a.name == "01-IR.png" and pairs.pairs[0].b.name == "01-VIS.png"
    assert scan_folder(tmp_path, roles=["VIS", "IR"]).pairs[0].a.name == "01-VIS.png"


def test_folder_with_ground_truth_and_underscore_names(tmp_path):
    for role in ("A", "B", "GT"):
        _write(tmp_path / f"scene_1_{role}.png")
    (pair,) = scan_folder(tmp_path).pairs
    assert pair.name == "scene_1" and pair.gt is not None and pair.gt.name == "scene_1_GT.png"


def test_folder_errors_name_every_bad_file(tmp_path):
    _write(tmp_path / "a-A.png")
    _write(tmp_path / "a-B.png", shape=(8, 12))  # size mismatch
    _write(tmp_path / "b-A.png")  # no partner
    _write(tmp_path / "noroles.png")  # does not match the pattern
    with pytest.raises(DatasetError) as info:
        scan_folder(tmp_path)
    message = str(info.value)
    assert "a-A.png 10x8, a-B.png 12x8" in message
    assert "b-A.png: no matching B file for pair 'b'" in message
    assert "noroles.png: name is not <pair>-<ROLE>.<ext>" in message


def test_folder_with_three_roles_is_refused(tmp_path):
    for role in ("A", "B", "C"):
        _write(tmp_path / f"p-{role}.png")
    with pytest.raises(DatasetError, match="exactly two source roles.*A, B, C"):
        scan_folder(tmp_path)


def test_open_dataset_accepts_a_folder_path(tmp_path):
    _write(tmp_path / "x-A.png")
    _write(tmp_path / "x-B.png")
    assert open_dataset(str(tmp_path)).pairs[0].name == "x"


# ---------------------------------------------------------------- synthetic


def test_synthetic_pairs_keep_the_ground_truth_where_in_focus(tmp_path):
    descriptor = get_dataset("synthetic")
    size = descriptor.spec["size"]
    for spec in descriptor.spec["pairs"]:
        images = generate_pair(spec, size)
        mask = focus_mask(spec["mask"], size)
        assert images["A"].shape == images["GT"].shape and images["A"].shape[:2] == (size, size)
        assert np.array_equal(images["A"][mask], images["GT"][mask]), spec["name"]
        assert np.array_equal(images["B"][~mask], images["GT"][~mask]), spec["name"]
        assert not np.array_equal(images["A"], images["GT"])  # the blurred part differs
        assert 0.1 < mask.mean() < 0.9


def test_synthetic_is_written_once_under_the_cache_and_verifies(tmp_path):
    pairs = open_dataset("synthetic", cache_dir=tmp_path)
    assert all(p.gt is not None and p.a.is_file() for p in pairs.pairs)
    assert tmp_path in pairs.folder.parents
    mtime = pairs.pairs[0].a.stat().st_mtime_ns
    assert open_dataset("synthetic", cache_dir=tmp_path).pairs[0].a.stat().st_mtime_ns == mtime
    assert {c.status for c in verify("synthetic", cache_dir=tmp_path)} == {"ok"}
    Image.fromarray(np.zeros((256, 256), np.uint8)).save(pairs.pairs[0].a)
    assert [c.status for c in verify("synthetic", cache_dir=tmp_path)].count("pixels") == 1


# ---------------------------------------------------------------- verify (shared data)


def test_verify_shared_lytro_and_detect_a_changed_file(data_dir, tmp_path):
    assert {c.status for c in verify("lytro", data_dir=data_dir)} == {"ok"}
    copy = tmp_path / "lytro"
    copy.mkdir()
    for f in (data_dir / "lytro").iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    changed = copy / "lytro-03-B.jpg"
    data = bytearray(changed.read_bytes())
    data[1000] ^= 0xFF
    changed.write_bytes(bytes(data))
    (copy / "lytro-07-A.jpg").unlink()
    bad = {c.file: c.status for c in verify("lytro", data_dir=tmp_path) if c.status != "ok"}
    assert bad == {"lytro/lytro-03-B.jpg": "sha256", "lytro/lytro-07-A.jpg": "missing"}
    assert main(["datasets", "verify", "lytro", "--data-dir", str(tmp_path)]) == 1


# ---------------------------------------------------------------- fetch over local HTTP


class _Server:
    """Serves files under ``root`` on 127.0.0.1 with Range support; records the requests."""

    def __init__(self, root: Path, corrupt: set[str] = frozenset()):
        self.root, self.corrupt, self.requests = root, corrupt, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                rel = unquote(urlparse(self.path).path).lstrip("/")
                server.requests.append((rel, self.headers.get("Range")))
                path = server.root / rel
                if not path.is_file():
                    self.send_error(404)
                    return
                data = path.read_bytes()
                if rel in server.corrupt:
                    data = data[:-1] + bytes([data[-1] ^ 1])
                start = 0
                match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
                if match:
                    start = int(match[1])
                    if start >= len(data):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                self.wfile.write(data[start:])

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def shared_server(data_dir):
    server = _Server(data_dir)
    yield server
    server.close()


def test_cli_fetch_downloads_verifies_and_skips_present_files(shared_server, tmp_path):
    target = tmp_path / "data"
    assert main(["datasets", "fetch", "lytro", "--data-dir", str(target), "--mirror", shared_server.url, "--quiet"]) == 0
    assert len(shared_server.requests) == 40
    assert main(["datasets", "verify", "lytro", "--data-dir", str(target)]) == 0
    assert not list(target.rglob("*.part"))
    shared_server.requests.clear()
    assert fetch("lytro", data_dir=target, mirror=shared_server.url).downloaded == []
    assert shared_server.requests == []


def test_fetch_resumes_a_partial_download_with_range(shared_server, data_dir, tmp_path):
    descriptor = get_dataset("lytro")
    entry = descriptor.files[0]
    original = (data_dir / entry.file).read_bytes()
    part = tmp_path / entry.file
    part.parent.mkdir(parents=True)
    Path(str(part) + ".part").write_bytes(original[:5000])
    report = fetch(dataclasses.replace(descriptor, files=(entry,)), data_dir=tmp_path, mirror=shared_server.url)
    assert report.downloaded == [entry.file] and report.bytes_downloaded == len(original) - 5000
    assert shared_server.requests == [(entry.file, "bytes=5000-")]
    assert file_sha256(part) == entry.sha256


def test_fetch_rejects_bytes_that_do_not_match_the_checksum(data_dir, tmp_path):
    entry = get_dataset("lytro").files[2]
    server = _Server(data_dir, corrupt={entry.file})
    try:
        with pytest.raises(DownloadError, match="does not match the descriptor"):
            download_file(f"{server.url}/{entry.file}", tmp_path / "x.jpg", entry.sha256)
    finally:
        server.close()
    assert not (tmp_path / "x.jpg").exists() and not (tmp_path / "x.jpg.part").exists()


def test_fetch_of_an_archive_descriptor_extracts_and_verifies(data_dir, tmp_path):
    files = get_dataset("lytro").files[:4]
    served = tmp_path / "served"
    served.mkdir()
    with zipfile.ZipFile(served / "lytro-subset.zip", "w") as zf:
        for entry in files:
            zf.write(data_dir / entry.file, f"release/{Path(entry.file).name}")
    descriptor = dataclasses.replace(
        get_dataset("lytro"),
        files=files,
        archives=({"url": "https://example.invalid/lytro-subset.zip", "sha256": file_sha256(served / "lytro-subset.zip"), "prefix": "release"},),
    )
    server = _Server(served)
    try:
        fetch(descriptor, data_dir=tmp_path / "root", mirror=server.url)
    finally:
        server.close()
    for entry in files:
        assert file_sha256(tmp_path / "root" / entry.file) == entry.sha256


def _tar_with(member: tarfile.TarInfo, data: bytes = b"x") -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        member.size = len(data) if member.isfile() else 0
        tf.addfile(member, io.BytesIO(data) if member.isfile() else None)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("name", ["../escape.txt", "/tmp/absolute.txt", "ok/../../escape.txt"])
def test_safe_extract_refuses_members_outside_the_target(tmp_path, name):
    archive = tmp_path / "evil.tar.gz"
    archive.write_bytes(_tar_with(tarfile.TarInfo(name)).getvalue())
    with pytest.raises(ArchiveError, match="outside"):
        safe_extract(archive, tmp_path / "target")
    assert not (tmp_path / "escape.txt").exists()
    assert not any((tmp_path / "target").iterdir())


def test_safe_extract_refuses_links_and_zip_traversal(tmp_path):
    link = tarfile.TarInfo("innocent")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    (tmp_path / "link.tar.gz").write_bytes(_tar_with(link).getvalue())
    with pytest.raises(ArchiveError, match="link"):
        safe_extract(tmp_path / "link.tar.gz", tmp_path / "t1")
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:
        zf.writestr("../../evil.txt", "x")
    with pytest.raises(ArchiveError, match="outside"):
        safe_extract(tmp_path / "evil.zip", tmp_path / "t2")


def test_cli_datasets_list_shows_pairs_status_and_size(tmp_path, capsys):
    (tmp_path / "tno").mkdir()
    (tmp_path / "tno" / "01-IR.png").write_bytes(b"x")
    assert main(["datasets", "list", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"data root: {tmp_path}" in out
    assert re.search(r"^lytro\s+20\s+multi-focus\s+A/B\s+RGB\s+absent\s+1\.8 MB$", out, re.M)
    assert re.search(r"^tno\s+25\s+infrared-visible\s+IR/VIS\s.*partial 1/50\s+12\.5 MB$", out, re.M)
    assert re.search(r"^synthetic\s+6\s.*generated on use", out, re.M)
