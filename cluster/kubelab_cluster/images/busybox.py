"""A busybox root filesystem, as one image layer: the CRI tests' and critest's test image.

Debian's ``busybox-static`` (one static binary, every applet a symlink to it) plus the
``/etc/passwd`` and ``/etc/group`` of the scratch images and the directories a shell expects.
Deterministic (fixed owners, modes and times), so the same host package gives the same digest.
"""

from __future__ import annotations

import gzip
import io
import subprocess
import tarfile
from pathlib import Path

from kubelab_cluster.cache import cache_root, content_key
from kubelab_cluster.images import docker
from kubelab_cluster.images.scratch import GROUP, PASSWD

HOST_PACKAGES = {"busybox-static": "the applets of the CRI test images (critest, the runtime's tests)"}
BUSYBOX = Path("/bin/busybox")
MTIME = 1700000000
PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CONFIG: dict[str, list[str]] = {"Env": [PATH], "Cmd": ["sh"]}


def applets(busybox: Path = BUSYBOX) -> list[str]:
    """Install paths of every applet (``/bin/sh``, ``/usr/bin/env``, ...)."""
    out = subprocess.run([str(busybox), "--list-full"], capture_output=True, text=True, check=True).stdout
    return sorted({line.strip() for line in out.splitlines() if line.strip() and line.strip() != "bin/busybox"})


def _add(tar: tarfile.TarFile, name: str, kind: bytes, mode: int, data: bytes = b"", link: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.linkname = kind, mode, MTIME, link
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data) if data else None)


def with_parents(names: list[str], dirs: set[str]) -> set[str]:
    """``dirs`` and every directory the applet paths ``names`` (``usr/bin/env``) need."""
    out = set(dirs)
    for name in names:
        parts = name.split("/")[:-1]
        out.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return out


def busybox_layer(busybox: Path = BUSYBOX) -> bytes:
    """The gzipped layer tar (gzip with no timestamp: reproducible)."""
    names = applets(busybox)
    base = {"bin", "etc", "tmp", "var", "root", "home", "proc", "sys", "dev", "usr", "usr/bin", "usr/sbin", "sbin"}
    dirs = with_parents(names, base)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in sorted(dirs):
            _add(tar, d, tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755)
        _add(tar, "bin/busybox", tarfile.REGTYPE, 0o755, busybox.read_bytes())
        _add(tar, "etc/passwd", tarfile.REGTYPE, 0o644, PASSWD.encode())
        _add(tar, "etc/group", tarfile.REGTYPE, 0o644, GROUP.encode())
        for name in names:
            _add(tar, name, tarfile.SYMTYPE, 0o777, link="/bin/busybox")
    return gzip.compress(raw.getvalue(), mtime=0)


REPO = "kubelab/busybox"


def build_busybox_image() -> str:
    """The layer as a local Docker image (``kubelab/busybox:<content key>``), for the registry."""
    layer = busybox_layer()
    ref = f"{REPO}:{content_key(layer, CONFIG)}"
    if docker.image_exists(ref):
        return ref
    tar = cache_root() / "images" / f"busybox-{ref.split(':')[1]}.tar.gz"
    tar.parent.mkdir(parents=True, exist_ok=True)
    tar.write_bytes(layer)
    changes = [f"ENV {CONFIG['Env'][0]}", 'CMD ["sh"]']
    docker.import_tar(ref, tar, changes)
    tar.unlink()
    docker.prune_repo(REPO, keep=ref)
    return ref
