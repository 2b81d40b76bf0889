"""Build artifacts into the versioned cache; a cached artifact is never rebuilt.

An artifact's key hashes its recipe, the pins it reads, the Go version and any
stamp override. The output directory ``toolchain/<name>/<version>-<key>/`` appears
atomically, with a ``build.json`` describing what was built and how long it took; so
the no-op check is a handful of ``stat`` calls and never runs ``go``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kubelab_cluster.cache import cache_root, content_key
from kubelab_cluster.pins import Pins
from kubelab_cluster.toolchain.artifacts import ARTIFACTS, Artifact
from kubelab_cluster.toolchain.errors import ToolchainError
from kubelab_cluster.toolchain.gomodule import prepare_workspace, workspace_key
from kubelab_cluster.toolchain.gotool import GoRunner
from kubelab_cluster.toolchain.stamping import Stamp, commit_from_sum
from kubelab_kit.files import atomic_write, staged_dir, swap_symlink

SCHEMA = 1


@dataclass(frozen=True)
class Override:
    """Stamp overrides, the analogue of upstream's KUBE_GIT_VERSION / KUBE_GIT_TREE_STATE."""

    git_version: str | None = None
    tree_state: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("git_version", self.git_version), ("tree_state", self.tree_state)) if v}


@dataclass(frozen=True)
class Built:
    artifact: str
    version: str
    directory: Path
    binaries: dict[str, Path]
    cached: bool
    seconds: float  # time spent now (≈0 when cached)
    build_seconds: float  # time the original build took


def artifact_key(a: Artifact, pins: Pins, override: Override = Override()) -> str:
    return content_key(
        SCHEMA, a.recipe(), pins.get(a.pin), workspace_key(a.workspace, pins), pins.tools.go, override.as_dict()
    )


def version_of(a: Artifact, pins: Pins, override: Override = Override()) -> str:
    return override.git_version or pins.get(a.pin) + a.version_suffix


def artifact_dir(a: Artifact, pins: Pins, override: Override = Override()) -> Path:
    version = version_of(a, pins, override)
    return cache_root() / "toolchain" / a.name / f"{version}-{artifact_key(a, pins, override)}"


def log_path(a: Artifact, pins: Pins, override: Override = Override()) -> Path:
    return (
        cache_root() / "toolchain" / "logs" / f"{artifact_dir(a, pins, override).parent.name}-"
        f"{artifact_dir(a, pins, override).name}.log"
    )


def lookup(a: Artifact, pins: Pins, override: Override = Override()) -> Built | None:
    """The cached build of an artifact, or None."""
    d = artifact_dir(a, pins, override)
    meta = d / "build.json"
    if not meta.is_file():
        return None
    data = json.loads(meta.read_text())
    binaries = {name: d / name for name in a.binaries}
    if not all(p.is_file() for p in binaries.values()):
        return None
    return Built(a.name, data["version"], d, binaries, True, 0.0, data["seconds"])


def built_binary(artifact: str, binary: str | None = None, pins: Pins | None = None) -> Path | None:
    """The path of an already built binary for the current pins, or None (never builds)."""
    from kubelab_cluster.pins import pins as current_pins
    from kubelab_cluster.toolchain.artifacts import BY_NAME

    a = BY_NAME[artifact]
    hit = lookup(a, pins or current_pins())
    return hit.binaries[binary or next(iter(a.binaries))] if hit else None


def check_debian_deps(todo: Sequence[Artifact]) -> None:
    """Fail before the first build when a Debian package any of ``todo`` needs is missing."""
    from kubelab_cluster.host import packages

    needed = {pkg: a.name for a in todo for pkg in a.debian_build_deps}
    missing = packages.missing(needed)
    if missing:
        names = " ".join(missing)
        raise ToolchainError(
            ", ".join(sorted({needed[p] for p in missing})),
            f"missing Debian build dependencies: {names}",
            f"kubelab-host setup  (as root it installs them; or: apt-get install -y {names})",
            ["dpkg-query", "-W", *missing],
        )


def stamp_for(a: Artifact, pins: Pins, go: GoRunner, override: Override) -> Stamp:
    info = go.module_info(a.stamp_module, pins.get(a.pin))
    with open(info["Info"]) as fh:
        published = json.load(fh)["Time"]
    return Stamp(
        version=version_of(a, pins, override),
        commit=commit_from_sum(info["Sum"]),
        tree_state=override.tree_state or ("dirty" if a.workspace.patches else "clean"),
        build_date=published,
    )


def go_build_args(a: Artifact, stamp: Stamp, package: str, output: Path) -> list[str]:
    ldflags = ["-s", "-w", *a.ldflags(stamp)]
    if a.static:
        ldflags.append("-extldflags=-static")
    verb = ["test", "-c"] if a.test_binary else ["build"]
    args = [*verb, "-trimpath", "-o", str(output), "-ldflags", " ".join(ldflags)]
    if a.tags:
        args += ["-tags", ",".join(a.tags)]
    return [*args, package]


def compile_into(
    a: Artifact, pins: Pins, go: GoRunner, ws_dir: Path, out: Path, override: Override = Override()
) -> tuple[Stamp, list[list[str]]]:
    """Run the ``go build`` (or ``go test -c``) of each of ``a``'s binaries in ``ws_dir``, into ``out``."""
    stamp = stamp_for(a, pins, go, override)
    commands = []
    for binary, package in sorted(a.binaries.items()):
        args = go_build_args(a, stamp, package, out / binary)
        commands.append(["go", *args])
        go.run(args, cwd=ws_dir)
    return stamp, commands


def write_build_json(
    out: Path,
    a: Artifact,
    pins: Pins,
    stamp: Stamp,
    ws_dir: Path,
    commands: list[list[str]],
    seconds: float,
    **extra: object,
) -> None:
    """The ``build.json`` of a finished build: what was built, from what, how, and how long it took."""
    meta = {
        "artifact": a.name,
        "version": stamp.version,
        "stamp": stamp.__dict__,
        "go": pins.tools.go,
        "workspace": str(ws_dir),
        "commands": commands,
        "seconds": seconds,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **extra,
    }
    atomic_write(out / "build.json", json.dumps(meta, indent=2) + "\n")


def build(a: Artifact, pins: Pins, override: Override = Override(), force: bool = False) -> Built:
    """Build one artifact unless its cached copy exists."""
    if not force:
        hit = lookup(a, pins, override)
        if hit:
            return hit
    started = time.monotonic()
    check_debian_deps([a])
    log = log_path(a, pins, override)
    log.unlink(missing_ok=True)
    go = GoRunner(a.name, pins.tools.go, log=log, cgo=a.cgo)
    ws_dir = prepare_workspace(a.workspace, pins, go)
    final = artifact_dir(a, pins, override)
    with staged_dir(final, replace=True) as tmp:
        stamp, commands = compile_into(a, pins, go, ws_dir, tmp, override)
        seconds = round(time.monotonic() - started, 1)
        write_build_json(tmp, a, pins, stamp, ws_dir, commands, seconds)
    return Built(a.name, stamp.version, final, {b: final / b for b in a.binaries}, False, seconds, seconds)


def bin_dir(pins: Pins) -> Path:
    """A folder of links to every binary of the current pins (for PATH)."""
    key = content_key(*(artifact_key(a, pins) for a in ARTIFACTS))
    return cache_root() / "toolchain" / "sets" / key / "bin"


def link_bin_dir(pins: Pins, built: list[Built]) -> Path:
    target = bin_dir(pins)
    target.mkdir(parents=True, exist_ok=True)
    for b in built:
        for name, path in b.binaries.items():
            swap_symlink(target / name, path)
    return target


def stale_entries(pins: Pins) -> list[Path]:
    """Cache entries no current artifact, wrapper module or bin set points at.

    Custom-version builds (``--git-version``) are stale too: they are cheap to relink. So are a
    release's second builds of other pins and the scratch folders of an interrupted one.
    """
    from kubelab_cluster.toolchain.gomodule import workspace_dir
    from kubelab_cluster.toolchain.release import rebuild_dir

    root = cache_root() / "toolchain"
    keep = {artifact_dir(a, pins) for a in ARTIFACTS}
    keep |= {workspace_dir(a.workspace, pins) for a in ARTIFACTS}
    keep |= {rebuild_dir(a, pins) for a in ARTIFACTS}
    keep.add(bin_dir(pins).parent)
    stale: list[Path] = []
    for a in ARTIFACTS:
        folder = root / a.name
        if folder.is_dir():
            stale += [d for d in sorted(folder.iterdir()) if d not in keep]
    for group in ("modules", "sets", "rebuilds", "scratch"):
        folder = root / group
        if folder.is_dir():
            stale += [d for d in sorted(folder.iterdir()) if d not in keep]
    return stale
