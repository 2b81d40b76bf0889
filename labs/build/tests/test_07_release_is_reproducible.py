"""Checkpoint 7 (book 1.2): a release builds twice, compares, and ships a manifest that catches tampering.

``kubelab-toolchain release --rebuild --out DIR`` takes the toolchain's cached build as build
one, builds the binary again from nothing (a fresh wrapper module, an empty ``GOCACHE``), fails
unless both are byte for byte the same, then writes ``DIR/bin/``, a reproducible tar.gz and
``SHA256SUMS``. The default release is one small Kubernetes binary, so this checkpoint's real
rebuild stays a few minutes on the lab's 2-core machines.
"""

from __future__ import annotations

import calendar
import json
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from kubelab_cluster.pins import Pins
from kubelab_cluster.toolchain.archive import epoch_of
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.gomodule import workspace_dir
from kubelab_cluster.toolchain.gotool import GoRunner, go_env
from kubelab_cluster.toolchain.manifest import MANIFEST, parse, sha256_of
from kubelab_cluster.toolchain.release import ARCHIVE_TOP, DEFAULT_RELEASE, rebuild_dir

from .conftest import ToolchainCLI

(ARTIFACT,) = DEFAULT_RELEASE
(BINARY,) = BY_NAME[ARTIFACT].binaries


class Made:
    def __init__(self, folder: Path, proc: subprocess.CompletedProcess[str], started: float) -> None:
        self.folder, self.proc, self.started = folder, proc, started

    @property
    def archive(self) -> Path:
        (archive,) = self.folder.glob(f"{ARCHIVE_TOP}-*.tar.gz")
        return archive


@pytest.fixture(scope="module")
def release(toolchain_cli: ToolchainCLI, tmp_path_factory: pytest.TempPathFactory) -> Made:
    """The release with a real second build (``--rebuild``): minutes, once for this file.

    Hint (1.2): run it yourself: `uv run kubelab-toolchain release --rebuild --out /tmp/rel`; its error names
    the binary and both digests when the builds differ. The code: cmd_release in
    cluster/kubelab_cluster/toolchain/cli.py, rebuild/compare/write_release in toolchain/release.py; the
    build log of build two is toolchain/logs/<artifact>-<version>-<key>.log in the cache.
    """
    folder = tmp_path_factory.mktemp("release") / "one"
    started = time.time()
    proc = toolchain_cli("release", "--rebuild", "--out", str(folder), timeout=3600)
    assert proc.returncode == 0, proc.stderr
    return Made(folder, proc, started)


@pytest.fixture(scope="module")
def module_time(pinned: Pins) -> int:
    """The publication time of the pinned k8s.io/kubernetes on the proxy (what buildDate is stamped with)."""
    info = GoRunner("lab-build", pinned.tools.go).module_info("k8s.io/kubernetes", pinned.kubernetes.version)
    with open(info["Info"]) as fh:
        return epoch_of(json.load(fh)["Time"])


def test_second_build_is_real_and_identical(release: Made, pinned: Pins, toolchain_cli: ToolchainCLI) -> None:
    """Build two was made now, in its own module folder with an empty GOCACHE, and has build one's bytes.

    Hint (1.2): a Go build is reproducible when nothing of the machine or the moment gets in: -trimpath
    (go_build_args in toolchain/build.py) keeps the build folder out, the stamped buildDate is the module
    time (stamp_for in build.py, stamping.py), never the clock; release.rebuild passes a GOCACHE of its own
    to GoRunner (gotool.py) and a fresh target to prepare_workspace (gomodule.py). When the digests differ,
    `go version -m` of both files shows the build settings and module versions each was made with.
    """
    a = BY_NAME[ARTIFACT]
    record = json.loads((rebuild_dir(a, pinned) / "build.json").read_text())
    built_at = calendar.timegm(time.strptime(record["built_at"], "%Y-%m-%dT%H:%M:%SZ"))
    assert built_at >= int(release.started), f"build two is older than this run: {record['built_at']}"
    assert record["gocache"] != go_env(pinned.tools.go)["GOCACHE"], "build two must not use the shared GOCACHE"
    assert Path(record["workspace"]) != workspace_dir(a.workspace, pinned), "build two must use a module of its own"
    assert record["gocache_files"] > 100, f"an empty GOCACHE filled by compiling: {record['gocache_files']} files"
    assert f"build 2 of {ARTIFACT}" in release.proc.stderr, release.proc.stderr

    first = Path(toolchain_cli("path", ARTIFACT, BINARY).stdout.strip())
    second = rebuild_dir(a, pinned) / BINARY
    assert first != second
    assert sha256_of(first) == sha256_of(second), f"{first} and {second} differ"
    manifest = parse((release.folder / MANIFEST).read_text())
    assert manifest[f"bin/{BINARY}"] == sha256_of(first)


def test_manifest_verifies(release: Made, toolchain_cli: ToolchainCLI) -> None:
    """SHA256SUMS covers each binary and the archive, in sha256sum's format, and verifies.

    Hint (1.2): toolchain/manifest.py writes `<sha256>  <path>` lines, sorted, relative to the release
    folder; `cd DIR && sha256sum -c SHA256SUMS` must agree with `kubelab-toolchain release --verify DIR`.
    """
    manifest = parse((release.folder / MANIFEST).read_text())
    assert sorted(manifest) == sorted([f"bin/{BINARY}", release.archive.name])
    proc = toolchain_cli("release", "--verify", str(release.folder))
    assert proc.returncode == 0, proc.stderr
    assert f"bin/{BINARY}: OK" in proc.stderr and f"{release.archive.name}: OK" in proc.stderr
    if shutil.which("sha256sum"):
        coreutils = subprocess.run(["sha256sum", "-c", MANIFEST], cwd=release.folder, capture_output=True, text=True)
        assert coreutils.returncode == 0, coreutils.stdout + coreutils.stderr


def test_archive_is_byte_identical_when_packed_again(
    release: Made, toolchain_cli: ToolchainCLI, tmp_path: Path, module_time: int
) -> None:
    """A second release (build two reused) packs the same archive, byte for byte.

    Hint (1.2): toolchain/archive.py: entries sorted, every mtime the module time (or SOURCE_DATE_EPOCH),
    uid/gid 0 and no user names, mode 0755, ustar (no PAX headers), no name or time in the gzip header.
    `tar tvzf` of the archive shows what went in; `cmp` the two archives shows the first differing byte.
    """
    again = tmp_path / "two"
    proc = toolchain_cli("release", "--out", str(again))
    assert proc.returncode == 0, proc.stderr
    assert f"build 2 of {ARTIFACT} reused" in proc.stderr, proc.stderr
    (archive,) = again.glob(f"{ARCHIVE_TOP}-*.tar.gz")
    assert archive.name == release.archive.name
    assert archive.read_bytes() == release.archive.read_bytes(), "the same files must pack to the same bytes"
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == sorted(m.name for m in members)
        for m in members:
            assert (m.uid, m.gid, m.uname, m.gname, m.mtime) == (0, 0, "", "", module_time), m.name
        packed = tar.extractfile(f"{ARCHIVE_TOP}/bin/{BINARY}")
        assert packed is not None and packed.read() == (release.folder / "bin" / BINARY).read_bytes()


def test_tampered_binary_fails_verification(release: Made, toolchain_cli: ToolchainCLI, tmp_path: Path) -> None:
    """One changed byte in a released binary: --verify exits non-zero naming the file and both digests.

    Hint (1.2): verify in toolchain/manifest.py re-hashes every listed file and raises ReleaseError
    (toolchain/errors.py) with `<file>: expected sha256 <manifest's>, actual <file's>`; the entry_point of
    toolchain/cli.py prints it and exits 1.
    """
    bad = tmp_path / "tampered"
    shutil.copytree(release.folder, bad)
    binary = bad / "bin" / BINARY
    data = bytearray(binary.read_bytes())
    data[len(data) // 2] ^= 0xFF
    binary.write_bytes(bytes(data))
    expected = parse((bad / MANIFEST).read_text())[f"bin/{BINARY}"]
    proc = toolchain_cli("release", "--verify", str(bad))
    assert proc.returncode == 1, proc.stderr
    assert f"bin/{BINARY}: expected sha256 {expected}, actual {sha256_of(binary)}" in proc.stderr, proc.stderr
    assert "fix: " in proc.stderr
