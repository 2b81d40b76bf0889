"""The lab image: Debian's python3 (3.11, like the project) with every workspace
package and its locked dependencies, for in-cluster components (DaemonSets,
controllers, webhooks) and the checkpoints' test pods.

The packages are installed on the host by uv into a plain folder for the image's
platform (``uv pip install --target --python-platform``) from ``uv.lock``, then
copied in: the image build itself needs no network. The gRPC stubs are generated
first (:func:`kubelab_cluster.protos.generate.generate`, a no-op when up to date), so
the key covers them and the stubs package's wheel ships them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from kubelab_cluster.cache import content_key
from kubelab_cluster.images import docker
from kubelab_cluster.images.debian import build_rootfs
from kubelab_cluster.images.errors import ImageError
from kubelab_cluster.images.rootfs_specs import SLIM
from kubelab_cluster.pins import repo_root
from kubelab_cluster.progress import step
from kubelab_cluster.protos.generate import generate as generate_protos
from kubelab_cluster.workspace import in_lab_image, members, project_name

SCHEMA = 2
REPO = "kubelab/lab"
SITE = "/opt/kubelab/site-packages"
PLATFORM = "x86_64-manylinux_2_36"  # bookworm's glibc

DOCKERFILE = f"""\
FROM {{base}}
COPY site-packages/ {SITE}/
ENV PYTHONPATH={SITE} PATH={SITE}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
LABEL dev.kubelab.key={{key}}
"""


def _inputs() -> list[Path]:
    root = repo_root()
    files = [root / "uv.lock"]
    # every workspace member that goes into the image (the wheels of `uv build --all-packages`)
    for pkg in filter(in_lab_image, members(root)):
        files += sorted(
            p
            for p in pkg.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and "tests" not in p.relative_to(pkg).parts
        )
    return files


def lab_key() -> str:
    import hashlib

    h = hashlib.sha256()
    for f in _inputs():
        h.update(str(f.relative_to(repo_root())).encode())
        h.update(f.read_bytes())
    return content_key(SCHEMA, SLIM.key, h.hexdigest(), DOCKERFILE, PLATFORM)


def _uv(*args: str, cwd: Path) -> str:
    cmd = ["uv", *args]
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ImageError(
            REPO, f"`uv {args[0]}` failed", "check uv.lock (`uv lock`) and PyPI access", cmd, proc.stdout + proc.stderr
        )
    return proc.stdout


def _make_portable(site: Path) -> None:
    """Same sources, same image: drop install records that name this host's temporary
    wheel paths, and point console scripts at the image's python3 (not the host's)."""
    for record in site.glob("*.dist-info/direct_url.json"):
        record.unlink()
    for script in (site / "bin").glob("*") if (site / "bin").is_dir() else []:
        data = script.read_bytes()
        if data.startswith(b"#!") and b"python" in data.split(b"\n", 1)[0]:
            script.write_bytes(b"#!/usr/bin/python3\n" + data.split(b"\n", 1)[1])
    for path in [site, *site.rglob("*")]:  # layer bytes do not depend on when we built them
        os.utime(path, (0, 0), follow_symlinks=False)


def build_lab_image() -> str:
    with step("lab image: gRPC stubs") as s:
        s.note = "up to date" if generate_protos().cached else "generated"
    key = lab_key()
    ref = f"{REPO}:{key}"
    if docker.image_exists(ref):
        return ref
    root = repo_root()
    base = f"kubelab/slim-rootfs:{SLIM.key}"
    if not docker.image_exists(base):
        with step("slim root filesystem"):
            docker.import_tar(base, build_rootfs(SLIM))
    with tempfile.TemporaryDirectory(prefix="kubelab-lab-") as tmp:
        ctx = Path(tmp)
        with step("lab image: workspace wheels and locked dependencies"):
            _uv("build", "--all-packages", "--wheel", "-o", str(ctx / "wheels"), cwd=root)
            left_out = [project_name(m) for m in members(root) if not in_lab_image(m)]
            reqs = ctx / "requirements.txt"
            _uv(  # the root project depends on every member; --prune drops the left-out ones' own needs
                "export",
                "--frozen",
                "--no-dev",
                "--no-emit-workspace",
                "--no-hashes",
                *(f"--prune={name}" for name in left_out),
                "-o",
                str(reqs),
                cwd=root,
            )
            wheels = sorted(
                str(p) for p in (ctx / "wheels").glob("*.whl") if p.name.split("-")[0].replace("_", "-") not in left_out
            )
            _uv(
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--target",
                str(ctx / "site-packages"),
                "--python-version",
                "3.11",
                "--python-platform",
                PLATFORM,
                "-r",
                str(reqs),
                *wheels,
                cwd=root,
            )
            shutil.rmtree(ctx / "wheels")
            _make_portable(ctx / "site-packages")
        with step("lab image: docker build"):
            (ctx / "Dockerfile").write_text(DOCKERFILE.format(base=base, key=key))
            docker.build(ref, ctx)
    docker.prune_repo(REPO, keep=ref)
    return ref
