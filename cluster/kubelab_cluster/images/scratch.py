"""Tiny root filesystems written directly as tarballs (for ``docker import``).

Used for images that are one static binary: the control-plane components, etcd,
CoreDNS and pause. Deterministic: fixed owners, modes and timestamps.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Mapping
from pathlib import Path

PASSWD = (
    "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
    "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
)
GROUP = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"


def _dir(tar: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    tar.addfile(info)


def _file(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    tar.addfile(info, io.BytesIO(data))


def write_scratch_rootfs(out: Path, binaries: Mapping[str, Path]) -> None:
    """A root filesystem with ``binaries`` (path in image -> file here), /etc/passwd and /tmp."""
    dirs = {"etc", "tmp", "var", "var/run", "home", "home/nonroot"}
    for target in binaries:
        parts = target.strip("/").split("/")[:-1]
        dirs.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    with tarfile.open(out, "w") as tar:
        for d in sorted(dirs):
            _dir(tar, d, 0o1777 if d == "tmp" else 0o755)
        _file(tar, "etc/passwd", PASSWD.encode(), 0o644)
        _file(tar, "etc/group", GROUP.encode(), 0o644)
        _file(tar, "etc/nsswitch.conf", b"hosts: files dns\n", 0o644)
        for target, source in sorted(binaries.items()):
            _file(tar, target.strip("/"), source.read_bytes(), 0o755)
