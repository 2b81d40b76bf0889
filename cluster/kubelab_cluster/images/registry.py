"""The lab registry image: Debian's docker-registry (distribution 2.8) on the slim root.

The binary comes from the Debian package (``apt-get download`` + ``dpkg-deb -x``), so
no registry is needed to make the registry.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from kubelab_cluster.cache import cache_root, content_key
from kubelab_cluster.images import docker
from kubelab_cluster.images.debian import build_rootfs
from kubelab_cluster.images.errors import ImageError
from kubelab_cluster.images.rootfs_specs import SLIM

SCHEMA = 1
REPO = "kubelab/registry"
PACKAGE = "docker-registry"

CONFIG = """\
version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
"""

DOCKERFILE = """\
FROM {base}
COPY docker-registry /usr/bin/docker-registry
COPY config.yml /etc/docker/registry/config.yml
LABEL dev.kubelab.key={key}
ENTRYPOINT ["/usr/bin/docker-registry", "serve", "/etc/docker/registry/config.yml"]
"""


def registry_binary() -> Path:
    """The registry binary from Debian's package, downloaded once into the cache."""
    folder = cache_root() / "images" / "debs" / PACKAGE
    binary = folder / "usr" / "bin" / "docker-registry"
    if binary.is_file():
        return binary
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["apt-get", "download", PACKAGE]
        proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise ImageError(
                REPO,
                f"cannot download the Debian package {PACKAGE}",
                "run `apt-get update` first",
                cmd,
                proc.stdout + proc.stderr,
            )
        deb = next(Path(tmp).glob("*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(folder)], check=True)
    return binary


def build_registry_image() -> str:
    binary = registry_binary()
    key = content_key(SCHEMA, SLIM.key, binary.stat().st_size, CONFIG, DOCKERFILE)
    ref = f"{REPO}:{key}"
    if docker.image_exists(ref):
        return ref
    base = f"kubelab/slim-rootfs:{SLIM.key}"
    if not docker.image_exists(base):
        docker.import_tar(base, build_rootfs(SLIM))
    with tempfile.TemporaryDirectory() as tmp:
        ctx = Path(tmp)
        shutil.copy2(binary, ctx / "docker-registry")
        (ctx / "config.yml").write_text(CONFIG)
        (ctx / "Dockerfile").write_text(DOCKERFILE.format(base=base, key=key))
        docker.build(ref, ctx)
    return ref
