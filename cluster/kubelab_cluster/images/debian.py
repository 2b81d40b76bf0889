"""Debian root filesystems made with debootstrap, cached as tarballs by their package list.

The mirror is the host's own Debian mirror (read from its apt sources), or
``$KUBELAB_DEBIAN_MIRROR``: the images need nothing the host's apt cannot reach.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kubelab_cluster.cache import cache_root, content_key
from kubelab_cluster.images.errors import ImageError

SCHEMA = 1
SUITE = "bookworm"  # systemd 252: boots on cgroup v1 (systemd >= 256 refuses)

APT_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))
# Host packages this module runs (installed by `kubelab-host setup`, see host/packages.py).
HOST_PACKAGES = {"debootstrap": "makes the node and lab images' root filesystems"}


@dataclass(frozen=True)
class Rootfs:
    """A named package set; its tarball is keyed by suite, variant and packages."""

    name: str
    packages: tuple[str, ...]
    variant: str = "minbase"
    suite: str = SUITE

    @property
    def key(self) -> str:
        return content_key(SCHEMA, self.suite, self.variant, sorted(self.packages))

    @property
    def tarball(self) -> Path:
        return cache_root() / "images" / "rootfs" / f"{self.name}-{self.suite}-{self.key}.tar"


def _source_entries(text: str) -> list[tuple[str, list[str]]]:
    """(uri, suites) pairs from one-line ``deb URI SUITE ...`` or deb822 ``URIs:/Suites:`` text."""
    entries: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        m = re.match(r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
        if m:
            entries.append((m.group(1), [m.group(2)]))
    for block in re.split(r"\n\s*\n", text):
        uris = re.search(r"(?mi)^URIs:\s*(.+)$", block)
        suites = re.search(r"(?mi)^Suites:\s*(.+)$", block)
        types = re.search(r"(?mi)^Types:\s*(.+)$", block)
        if uris and suites and (not types or "deb" in types.group(1).split()):
            for uri in uris.group(1).split():
                entries.append((uri, suites.group(1).split()))
    return entries


def find_mirror(suite: str = SUITE, sources: tuple[Path, ...] = APT_SOURCES) -> str:
    """The host's Debian mirror that carries ``suite`` itself (not -security/-updates)."""
    env = os.environ.get("KUBELAB_DEBIAN_MIRROR")
    if env:
        return env
    files: list[Path] = []
    for src in sources:
        if src.is_dir():
            files += sorted(p for p in src.iterdir() if p.suffix in (".list", ".sources"))
        elif src.is_file():
            files.append(src)
    for f in files:
        for uri, suites in _source_entries(f.read_text(errors="replace")):
            if suite in suites and "/debian" in uri and "security" not in uri:
                return uri
    raise ImageError(
        "rootfs",
        f"no Debian mirror for {suite!r} in the host's apt sources",
        "set KUBELAB_DEBIAN_MIRROR to a Debian mirror URL this machine reaches",
    )


def build_rootfs(spec: Rootfs) -> Path:
    """debootstrap ``spec`` into a tarball (once; later calls return the cached file)."""
    out = spec.tarball
    if out.is_file():
        return out
    if os.geteuid() != 0:
        raise ImageError(spec.name, "debootstrap needs root", "run as root (sudo)")
    if not shutil.which("debootstrap"):
        raise ImageError(spec.name, "debootstrap is not installed", "apt-get install -y debootstrap")
    mirror = find_mirror(spec.suite)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"kubelab-{spec.name}-", dir=out.parent) as tmp:
        root = Path(tmp) / "root"
        cmd = [
            "debootstrap",
            f"--variant={spec.variant}",
            f"--include={','.join(sorted(spec.packages))}",
            spec.suite,
            str(root),
            mirror,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        _umount_below(root)
        if proc.returncode != 0:
            log = root / "debootstrap" / "debootstrap.log"
            detail = log.read_text(errors="replace") if log.is_file() else proc.stdout + proc.stderr
            raise ImageError(spec.name, "debootstrap failed", f"check that {mirror} is reachable", cmd, detail)
        _slim(root)
        partial = out.with_suffix(".tar.partial")
        tar = ["tar", "--numeric-owner", "--xattrs", "-C", str(root), "-cf", str(partial), "."]
        subprocess.run(tar, check=True)
        os.replace(partial, out)
    return out


def _umount_below(root: Path) -> None:
    """debootstrap mounts /proc and /sys in the target; never leave them behind."""
    mounts = Path("/proc/mounts").read_text().splitlines()
    targets = [line.split()[1] for line in mounts if line.split()[1].startswith(str(root) + "/")]
    for target in sorted(targets, key=len, reverse=True):
        subprocess.run(["umount", "-l", target], check=False)


def _slim(root: Path) -> None:
    """Drop what an image never needs: apt lists and caches, docs, man pages, locales."""
    for rel in ("var/lib/apt/lists", "var/cache/apt", "usr/share/doc", "usr/share/man", "usr/share/locale"):
        target = root / rel
        if target.is_dir():
            shutil.rmtree(target)
            target.mkdir(parents=True)
