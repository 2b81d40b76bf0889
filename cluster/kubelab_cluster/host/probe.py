"""``kubelab-host probe``: prove that privileged containers run, without any registry.

The probe image is made here from the host's static busybox (Debian: ``busybox-static``):
a root filesystem holding /bin/busybox and a few links, streamed into ``docker import``.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from kubelab_cluster.host.errors import HostError

PROBE_IMAGE = "kubelab/probe:1"
BUSYBOX_CANDIDATES = (Path("/bin/busybox"), Path("/usr/bin/busybox"))
_APPLETS = ("sh", "true", "sleep", "cat", "grep")
_PT_INTERP = 3


class ProbeError(HostError):
    pass


@dataclass(frozen=True)
class ProbeResult:
    check: str
    ok: bool
    seconds: float
    detail: str


def is_static_elf(path: Path) -> bool:
    """True for an ELF executable with no program interpreter (no dynamic loader needed)."""
    with open(path, "rb") as fh:
        head = fh.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF":
            return False
        order = "<" if head[5] == 1 else ">"
        if head[4] == 2:  # 64-bit
            (phoff,) = struct.unpack_from(order + "Q", head, 0x20)
            phentsize, phnum = struct.unpack_from(order + "HH", head, 0x36)
        else:
            (phoff,) = struct.unpack_from(order + "I", head, 0x1C)
            phentsize, phnum = struct.unpack_from(order + "HH", head, 0x2A)
        fh.seek(phoff)
        for _ in range(phnum):
            entry = fh.read(phentsize)
            if len(entry) < 4 or struct.unpack_from(order + "I", entry)[0] == _PT_INTERP:
                return False
    return True


def find_busybox() -> Path:
    for path in BUSYBOX_CANDIDATES:
        if path.is_file() and is_static_elf(path):
            return path
    raise ProbeError("no static busybox found; install it: apt-get install -y busybox-static")


def rootfs_tar(busybox: Path) -> bytes:
    """A tar stream of the probe's root filesystem."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in ("bin", "proc", "sys", "dev", "tmp", "etc"):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o1777 if name == "tmp" else 0o755
            tar.addfile(info)
        data = busybox.read_bytes()
        info = tarfile.TarInfo("bin/busybox")
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
        for applet in _APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname, link.mode = tarfile.SYMTYPE, "busybox", 0o777
            tar.addfile(link)
    return buf.getvalue()


def _docker(*args: str, stdin: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["docker", *args], input=stdin, capture_output=True, timeout=timeout, check=False)


def _text(proc: subprocess.CompletedProcess[bytes]) -> str:
    return (proc.stdout + proc.stderr).decode(errors="replace").strip()


def ensure_image(image: str = PROBE_IMAGE) -> bool:
    """Import the probe image unless it exists; True if it was built now."""
    if _docker("image", "inspect", image).returncode == 0:
        return False
    proc = _docker("import", "-", image, stdin=rootfs_tar(find_busybox()))
    if proc.returncode != 0:
        raise ProbeError(f"docker import failed: {_text(proc)}")
    return True


def _timed(check: str, *args: str, expect: str | None = None) -> ProbeResult:
    started = time.monotonic()
    proc = _docker(*args)
    seconds = time.monotonic() - started
    out = _text(proc)
    ok = proc.returncode == 0 and (expect is None or expect in out)
    return ProbeResult(check, ok, seconds, out.splitlines()[-1] if out else f"exit {proc.returncode}")


def run_probe(image: str = PROBE_IMAGE) -> list[ProbeResult]:
    """Privileged run, then exec (plain and privileged) into a privileged container."""
    results = [
        _timed("docker run --rm --privileged … true", "run", "--rm", "--privileged", image, "/bin/busybox", "true")
    ]
    name = f"kubelab-probe-{os.getpid()}"
    started = _timed(
        "docker run -d --privileged … sleep",
        "run",
        "-d",
        "--privileged",
        "--name",
        name,
        image,
        "/bin/busybox",
        "sleep",
        "600",
    )
    results.append(started)
    if started.ok:
        try:
            results.append(_timed("docker exec … true", "exec", name, "/bin/busybox", "true"))
            results.append(
                _timed(
                    "docker exec --privileged … CapEff",
                    "exec",
                    "--privileged",
                    name,
                    "/bin/busybox",
                    "grep",
                    "CapEff",
                    "/proc/self/status",
                    expect="CapEff",
                )
            )
        finally:
            _docker("rm", "-f", name)
    return results
