"""Where image inputs come from: toolchain binaries (built on demand) and the repo's files."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from kubelab_cluster.cache import cache_root
from kubelab_cluster.images.errors import ImageError
from kubelab_cluster.pins import Pins, repo_root
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import artifact_key, build
from kubelab_kit.files import staged_dir


def binary(pins: Pins, artifact: str, name: str | None = None) -> Path:
    """A toolchain binary for the current pins, building it first if needed."""
    built = build(BY_NAME[artifact], pins)
    return built.binaries[name or artifact]


def binary_key(pins: Pins, artifact: str) -> str:
    return artifact_key(BY_NAME[artifact], pins)


def tree_hash(folder: Path) -> str:
    """A hash of every file's relative path, mode and bytes under ``folder``."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode())
        h.update(oct(path.stat().st_mode & 0o777).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


# Host packages this module runs (installed by `kubelab-host setup`, see host/packages.py).
HOST_PACKAGES = {"gcc": "compiles the static pause binary", "libc6-dev": "the C library pause links statically"}


def images_dir() -> Path:
    return repo_root() / "cluster" / "images"


def pause_binary() -> Path:
    """Our pause (cluster/images/pause/pause.c), compiled statically once per source hash."""
    source = images_dir() / "pause" / "pause.c"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    out = cache_root() / "images" / "pause" / digest / "pause"
    if out.is_file():
        return out
    with staged_dir(out.parent, replace=True) as tmp:
        cmd = ["gcc", "-static", "-Os", "-s", "-Wall", "-Werror", "-o", str(tmp / "pause"), str(source)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise ImageError(
                "pause", "compiling pause.c failed", "kubelab-host setup (installs gcc, libc6-dev)", cmd,
                proc.stdout + proc.stderr,
            )  # fmt: skip
    return out


def kubeadm_images(pins: Pins) -> dict[str, str]:
    """``kubeadm config images list``: component name -> image reference kubeadm will ask for."""
    kubeadm = binary(pins, "kubeadm")
    cmd = [str(kubeadm), "config", "images", "list", "--kubernetes-version", pins.kubernetes.version]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ImageError(
            "control-plane", "kubeadm could not list its images", "rebuild kubeadm: nox -s toolchain", cmd, proc.stderr
        )
    refs = {}
    for ref in proc.stdout.split():
        name = ref.rsplit("/", 1)[-1].split(":", 1)[0]
        refs[name] = ref
    return refs
