"""A release check: build twice, compare, package with a checksum manifest.

Build one is the toolchain's cached build. Build two starts from nothing the first left
behind: a fresh copy of the wrapper module, an empty ``GOCACHE`` and its own output folder,
from the same pins (the module cache is shared: its zips are checked against go.sum, they are
inputs, not outputs). Both must be byte for byte the same; then the binaries, a reproducible
archive of them (``archive.py``) and ``SHA256SUMS`` (``manifest.py``) go into the release folder.

Build two is kept in ``toolchain/rebuilds/<artifact>-<version>-<key>/`` with a ``build.json``
of its own and is reused on the next release; ``--rebuild`` (the lab's checkpoint, ``nox -s
release``) always builds it again, because only a real rebuild proves anything.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from kubelab_cluster.cache import cache_root
from kubelab_cluster.pins import Pins
from kubelab_cluster.toolchain.archive import epoch_of, pack, source_date_epoch
from kubelab_cluster.toolchain.artifacts import Artifact
from kubelab_cluster.toolchain.build import (
    Built,
    artifact_dir,
    check_debian_deps,
    compile_into,
    write_build_json,
)
from kubelab_cluster.toolchain.errors import ToolchainError
from kubelab_cluster.toolchain.gomodule import prepare_workspace
from kubelab_cluster.toolchain.gotool import GoRunner
from kubelab_cluster.toolchain.manifest import sha256_of, write_manifest
from kubelab_kit.files import atomic_write, staged_dir

# What `kubelab-toolchain release` (and `nox -s release`, the lab's checkpoint 7) covers by default:
# the Kubernetes binary that builds fastest from an empty GOCACHE on the lab's 2-core machines
# (measured, see labs/build/README.md, 1.2). `release NAMES` does any artifact.
DEFAULT_RELEASE = ("kubectl",)
ARCHIVE_TOP = "kubelab-release"


@dataclass(frozen=True)
class Rebuilt:
    """Build two of an artifact."""

    artifact: str
    directory: Path
    binaries: dict[str, Path]
    reused: bool  # taken from an earlier release (no --rebuild)
    seconds: float  # how long it took (when it was built)
    built_at: str


@dataclass(frozen=True)
class Comparison:
    artifact: str
    binary: str
    first: Path
    second: Path
    first_sha256: str
    second_sha256: str

    @property
    def identical(self) -> bool:
        return self.first_sha256 == self.second_sha256


def rebuild_dir(a: Artifact, pins: Pins) -> Path:
    first = artifact_dir(a, pins)
    return cache_root() / "toolchain" / "rebuilds" / f"{a.name}-{first.name}"


def lookup_rebuild(a: Artifact, pins: Pins) -> Rebuilt | None:
    d = rebuild_dir(a, pins)
    meta = d / "build.json"
    binaries = {name: d / name for name in a.binaries}
    if not meta.is_file() or not all(p.is_file() for p in binaries.values()):
        return None
    data = json.loads(meta.read_text())
    return Rebuilt(a.name, d, binaries, True, data["seconds"], data["built_at"])


def _files_in(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file())


def rebuild(a: Artifact, pins: Pins) -> Rebuilt:
    """Build ``a`` a second time, sharing nothing with the first build but the pinned inputs."""
    started = time.monotonic()
    check_debian_deps([a])
    scratch_root = cache_root() / "toolchain" / "scratch"
    scratch_root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"{a.name}.", dir=scratch_root))
    try:
        gocache = scratch / "gocache"
        gocache.mkdir()
        log = cache_root() / "toolchain" / "logs" / f"{rebuild_dir(a, pins).name}.log"
        log.unlink(missing_ok=True)
        go = GoRunner(a.name, pins.tools.go, log=log, cgo=a.cgo, env={"GOCACHE": str(gocache)})
        ws_dir = prepare_workspace(a.workspace, pins, go, target=scratch / "module")
        final = rebuild_dir(a, pins)
        with staged_dir(final, replace=True) as tmp:
            stamp, commands = compile_into(a, pins, go, ws_dir, tmp)
            seconds = round(time.monotonic() - started, 1)
            # The scratch folders are gone after this; the record says what they were.
            extra = {"rebuild_of": str(artifact_dir(a, pins)), "gocache": str(gocache)}
            write_build_json(tmp, a, pins, stamp, ws_dir, commands, seconds, **extra, gocache_files=_files_in(gocache))
        data = json.loads((final / "build.json").read_text())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Rebuilt(a.name, final, {b: final / b for b in a.binaries}, False, seconds, data["built_at"])


def compare(first: Built, second: Rebuilt) -> list[Comparison]:
    return [
        Comparison(first.artifact, name, path, second.binaries[name], sha256_of(path), sha256_of(second.binaries[name]))
        for name, path in sorted(first.binaries.items())
    ]


def require_identical(comparisons: list[Comparison]) -> None:
    """Fail naming every binary whose two builds differ, with both digests and both files."""
    differ = [c for c in comparisons if not c.identical]
    if not differ:
        return
    lines = "\n".join(
        f"  {c.binary}: build 1 sha256 {c.first_sha256} ({c.first})\n"
        f"  {' ' * len(c.binary)}  build 2 sha256 {c.second_sha256} ({c.second})"
        for c in differ
    )
    raise ToolchainError(
        ", ".join(sorted({c.artifact for c in differ})),
        f"not reproducible: two builds from the same pins differ\n{lines}",
        "find what differs between the two builds: `go version -m` of both files (module versions, build "
        "settings) and the version each prints, `cmp` (where the bytes differ), then look for inputs that "
        "change from build to build: the clock (the stamped buildDate "
        "must be the module time), the build folder (-trimpath), the build cache, cgo's C toolchain; "
        "after a fix, `kubelab-toolchain release --rebuild` makes build 2 again (it is kept for comparing)",
    )


def build_date(built: Built) -> str:
    """The time a build is stamped with (its ``build.json``): the module's publication time."""
    date: str = json.loads((built.directory / "build.json").read_text())["stamp"]["build_date"]
    return date


def platform(go_version: str) -> str:
    """``linux-amd64``: what the Go tool builds for here (no GOOS/GOARCH is set by the recipes)."""
    goos, goarch = GoRunner("release", go_version).run(["env", "GOOS", "GOARCH"]).split()
    return f"{goos}-{goarch}"


def archive_name(plat: str) -> str:
    return f"{ARCHIVE_TOP}-{plat}.tar.gz"


@dataclass(frozen=True)
class Release:
    folder: Path
    archive: Path
    manifest: Path
    mtime: int


def write_release(out: Path, binaries: dict[str, Path], mtime: int, plat: str) -> Release:
    """``out/bin/<binary>``, ``out/<archive>`` (the binaries under ``kubelab-release/bin/``) and ``out/SHA256SUMS``."""
    for name, path in sorted(binaries.items()):
        atomic_write(out / "bin" / name, path.read_bytes(), mode=0o755)
    archive = out / archive_name(plat)
    atomic_write(archive, pack({f"{ARCHIVE_TOP}/bin/{n}": p for n, p in binaries.items()}, mtime))
    manifest = write_manifest(out, [*(f"bin/{n}" for n in binaries), archive.name])
    return Release(out, archive, manifest, mtime)


def release_mtime(firsts: list[Built]) -> int:
    """``SOURCE_DATE_EPOCH`` when set, else the newest module time the binaries are stamped with."""
    return source_date_epoch(max(epoch_of(build_date(b)) for b in firsts))
