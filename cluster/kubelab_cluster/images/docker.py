"""The few Docker engine operations the image builds need, through the docker CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from kubelab_cluster.images.errors import ImageError

ENGINE_FIX = "start the Docker engine: `uv run kubelab-host setup` (or see `kubelab-host check`)"


def docker(image: str, *args: str, stdin: bytes | None = None, fix: str = "", timeout: float = 1800) -> str:
    exe = shutil.which("docker")
    if not exe:
        raise ImageError(image, "the docker CLI is not installed", ENGINE_FIX, ["docker", *args])
    proc = subprocess.run([exe, *args], input=stdin, capture_output=True, timeout=timeout, check=False)
    out = proc.stdout.decode(errors="replace")
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace")
        hint = fix or (ENGINE_FIX if "Cannot connect to the Docker daemon" in err else "read the output above")
        raise ImageError(
            image, f"`docker {args[0]}` exited with status {proc.returncode}", hint, ["docker", *args], out + err
        )
    return out


def image_exists(ref: str) -> bool:
    exe = shutil.which("docker")
    if not exe:
        return False
    proc = subprocess.run([exe, "image", "inspect", ref], capture_output=True, check=False)
    return proc.returncode == 0


def image_labels(ref: str) -> dict[str, str]:
    out = docker(ref, "image", "inspect", "--format", "{{json .Config.Labels}}", ref)
    labels: dict[str, str] | None = json.loads(out)
    return labels or {}


def import_tar(ref: str, tar: Path, changes: Sequence[str] = ()) -> None:
    """``docker import``: a root filesystem tarball becomes a one-layer image."""
    args = ["import"]
    for change in changes:
        args += ["--change", change]
    docker(ref, *args, str(tar), ref)


def build(ref: str, context: Path, dockerfile: str = "Dockerfile") -> None:
    docker(ref, "build", "--quiet", "--network", "none", "-f", str(context / dockerfile), "-t", ref, str(context))


def save(refs: Sequence[str], out: Path) -> None:
    docker(refs[0], "save", "-o", str(out), *refs)


def tag(src: str, dst: str) -> None:
    docker(dst, "tag", src, dst)


def prune_repo(repo: str, keep: str) -> list[str]:
    """Remove the other tags of ``repo`` (older content keys); images in use are kept."""
    out = docker(keep, "images", "--format", "{{.Repository}}:{{.Tag}}", repo)
    removed = []
    for ref in out.split():
        if ref != keep and ref.startswith(f"{repo}:"):
            exe = shutil.which("docker") or "docker"
            if subprocess.run([exe, "rmi", ref], capture_output=True, check=False).returncode == 0:
                removed.append(ref)
    return removed
