"""The release step's packaging without a Go build: the archive is reproducible, the manifest is
``sha256sum``'s format, verification names a changed or missing file with both digests, and two
builds that differ fail naming the binary."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from kubelab_cluster.pins import load_pins
from kubelab_cluster.toolchain.archive import epoch_of, pack, source_date_epoch
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import Built, artifact_dir, stale_entries
from kubelab_cluster.toolchain.errors import ReleaseError, ToolchainError
from kubelab_cluster.toolchain.manifest import MANIFEST, parse, render, verify, write_manifest
from kubelab_cluster.toolchain.release import (
    ARCHIVE_TOP,
    Rebuilt,
    compare,
    rebuild_dir,
    release_mtime,
    require_identical,
    write_release,
)

MTIME = epoch_of("2026-10-27T12:01:04Z")


def _binaries(folder: Path, content: dict[str, bytes]) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, data in content.items():
        (folder / name).write_bytes(data)
        out[name] = folder / name
    return out


def test_epoch_of_and_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    assert epoch_of("1970-01-01T00:01:00Z") == 60
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert source_date_epoch(7) == 7
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert source_date_epoch(7) == 1700000000
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(ValueError, match="SOURCE_DATE_EPOCH"):
        source_date_epoch(7)


def test_packing_twice_gives_the_same_bytes_whatever_the_files_look_like(tmp_path: Path) -> None:
    content = {"b-tool": b"\x7fELF b" * 1000, "a-tool": b"\x7fELF a" * 1000}
    one = _binaries(tmp_path / "one", content)
    two = _binaries(tmp_path / "two", dict(reversed(content.items())))
    for i, path in enumerate(two.values()):  # other mtimes and modes: none of it may reach the archive
        path.chmod(0o700)
        os.utime(path, (1000 + i, 1000 + i))
    first = pack({f"top/bin/{n}": p for n, p in one.items()}, MTIME)
    second = pack({f"top/bin/{n}": p for n, p in reversed(two.items())}, MTIME)
    assert first == second
    assert pack({f"top/bin/{n}": p for n, p in one.items()}, MTIME + 1) != first  # the time is in it


def test_archive_entries_are_sorted_owned_by_root_and_dated_by_the_module(tmp_path: Path) -> None:
    files = _binaries(tmp_path / "in", {"kubectl": b"k" * 10, "kube-proxy": b"p" * 20})
    data = pack({f"top/bin/{n}": p for n, p in files.items()}, MTIME)
    header = data[:10]
    assert header[:3] == b"\x1f\x8b\x08" and header[3] == 0, "no file name (FNAME flag) in the gzip header"
    assert header[4:8] == b"\0\0\0\0", "no time in the gzip header"
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(data)
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["top", "top/bin", "top/bin/kube-proxy", "top/bin/kubectl"]
        for m in members:
            assert (m.uid, m.gid, m.uname, m.gname, m.mtime, m.mode) == (0, 0, "", "", MTIME, 0o755), m.name
            assert not m.pax_headers
        member = tar.extractfile("top/bin/kubectl")
        assert member is not None and member.read() == b"k" * 10
    assert gzip.decompress(data)[:3] == b"top"


def test_manifest_is_sha256sum_format(tmp_path: Path) -> None:
    _binaries(tmp_path / "bin", {"x": b"one", "y": b"two"})
    path = write_manifest(tmp_path, ["bin/y", "bin/x"])
    lines = path.read_text().splitlines()
    assert lines == [
        f"{hashlib.sha256(b'one').hexdigest()}  bin/x",
        f"{hashlib.sha256(b'two').hexdigest()}  bin/y",
    ]
    assert parse(path.read_text()) == {"bin/x": hashlib.sha256(b"one").hexdigest(), "bin/y": lines[1][:64]}
    assert parse(f"{'0' * 64} *bin/z\n") == {"bin/z": "0" * 64}  # sha256sum's binary-mode marker
    assert render(parse(path.read_text())) == path.read_text()
    if shutil.which("sha256sum"):
        proc = subprocess.run(["sha256sum", "-c", MANIFEST], cwd=tmp_path, capture_output=True, text=True)
        assert proc.returncode == 0 and "bin/x: OK" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("not a digest  bin/x\n", "line 1"),
        (f"{'0' * 64}  /etc/passwd\n", "not a path inside"),
        (f"{'0' * 64}  ../x\n", "not a path inside"),
        ("\n", "lists no files"),
    ],
)
def test_a_manifest_that_is_not_one_is_refused(text: str, needle: str) -> None:
    with pytest.raises(ReleaseError, match=needle):
        parse(text)


def test_verify_names_a_tampered_and_a_missing_file_with_both_digests(tmp_path: Path) -> None:
    _binaries(tmp_path / "bin", {"kubectl": b"good", "kube-proxy": b"fine"})
    write_manifest(tmp_path, ["bin/kubectl", "bin/kube-proxy"])
    assert set(verify(tmp_path)) == {"bin/kubectl", "bin/kube-proxy"}
    (tmp_path / "bin" / "kubectl").write_bytes(b"evil")
    (tmp_path / "bin" / "kube-proxy").unlink()
    with pytest.raises(ReleaseError) as err:
        verify(tmp_path)
    text = str(err.value)
    assert "2 of 2 files" in text
    good, evil = hashlib.sha256(b"good").hexdigest(), hashlib.sha256(b"evil").hexdigest()
    assert f"bin/kubectl: expected sha256 {good}, actual {evil}" in text
    assert f"bin/kube-proxy: missing (expected sha256 {hashlib.sha256(b'fine').hexdigest()})" in text
    assert "fix: " in text


def test_verify_without_a_manifest_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match="release --out"):
        verify(tmp_path)


def _built(folder: Path, binaries: dict[str, bytes], date: str = "2026-10-27T12:01:04Z") -> Built:
    paths = _binaries(folder, binaries)
    (folder / "build.json").write_text(json.dumps({"stamp": {"build_date": date}}))
    return Built("kube-proxy", "v1.37.2", folder, paths, True, 0.0, 1.0)


def test_two_builds_that_differ_fail_naming_the_binary_and_both_digests(tmp_path: Path) -> None:
    first = _built(tmp_path / "one", {"kube-proxy": b"same", "other": b"a"})
    paths = _binaries(tmp_path / "two", {"kube-proxy": b"same", "other": b"b"})
    second = Rebuilt("kube-proxy", tmp_path / "two", paths, False, 1.0, "now")
    comparisons = compare(first, second)
    assert [(c.binary, c.identical) for c in comparisons] == [("kube-proxy", True), ("other", False)]
    require_identical(comparisons[:1])
    with pytest.raises(ToolchainError) as err:
        require_identical(comparisons)
    text = str(err.value)
    assert "'kube-proxy'" in text and "not reproducible" in text
    assert f"other: build 1 sha256 {hashlib.sha256(b'a').hexdigest()}" in text
    assert f"build 2 sha256 {hashlib.sha256(b'b').hexdigest()}" in text
    assert "kube-proxy: build 1" not in text  # only the binaries that differ
    assert "fix: " in text and "buildDate" in text


def test_write_release_lays_out_bin_archive_and_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = _built(tmp_path / "built", {"kube-proxy": b"proxy"})
    older = _built(tmp_path / "older", {"kind": b"kind"}, date="2025-01-01T00:00:00Z")
    mtime = release_mtime([first, older])
    assert mtime == MTIME  # the newest module time
    made = write_release(tmp_path / "out", {**first.binaries, **older.binaries}, mtime, "linux-amd64")
    assert made.archive.name == f"{ARCHIVE_TOP}-linux-amd64.tar.gz"
    assert sorted(parse(made.manifest.read_text())) == ["bin/kind", "bin/kube-proxy", made.archive.name]
    assert (tmp_path / "out" / "bin" / "kube-proxy").stat().st_mode & 0o777 == 0o755
    assert set(verify(tmp_path / "out")) == {"bin/kind", "bin/kube-proxy", made.archive.name}
    again = write_release(tmp_path / "again", {**older.binaries, **first.binaries}, mtime, "linux-amd64")
    assert again.archive.read_bytes() == made.archive.read_bytes()
    assert again.manifest.read_text() == made.manifest.read_text()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    assert release_mtime([first]) == 86400


def test_rebuilds_live_beside_the_cache_and_are_pruned_with_their_pins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBELAB_CACHE", str(tmp_path))
    pins = load_pins()
    kube_proxy = BY_NAME["kube-proxy"]
    current = rebuild_dir(kube_proxy, pins)
    assert current.name == f"kube-proxy-{artifact_dir(kube_proxy, pins).name}"
    current.mkdir(parents=True)
    old = current.with_name("kube-proxy-v1.37.1-000000000000")
    old.mkdir()
    leftover = tmp_path / "toolchain" / "scratch" / "kube-proxy.x1"
    leftover.mkdir(parents=True)
    stale = stale_entries(pins)
    assert old in stale and leftover in stale and current not in stale
