"""The reservation store: host-local's on-disk layout, guarded by an fcntl lock.

``<dataDir>/<network>/`` holds one file per reserved address, named by the address and
containing ``<containerID>\\r\\n<ifname>``, plus ``last_reserved_ip.<range set index>``
and ``lock``. Every read-modify-write happens while holding an exclusive ``flock`` on
``lock``, so concurrent ADDs (threads of the daemon or separate plugin processes) never
hand out one address twice. A reservation appears atomically: it is written to a temp
file and hard-linked to its final name, which fails if the name exists (a create-if-absent,
so not :func:`~kubelab_kit.files.atomic_write`, which replaces). ``last_reserved_ip.<set>``
is replaced with ``atomic_write``.
"""

from __future__ import annotations

import errno
import fcntl
import ipaddress
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kubelab_cni.config import IPAddress
from kubelab_kit.files import atomic_write

LINE_BREAK = "\r\n"
LAST_RESERVED_PREFIX = "last_reserved_ip."
LOCK_NAME = "lock"
_TMP_PREFIX = ".tmp-"


@dataclass(frozen=True)
class Reservation:
    address: IPAddress
    container_id: str
    ifname: str


def _parse_address(name: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


class Store:
    """One network's reservations. Use the methods only inside ``with store.locked():``."""

    def __init__(self, data_dir: str | os.PathLike[str], network: str) -> None:
        self.directory = Path(data_dir) / network
        self._lock_fd: int | None = None

    @contextmanager
    def locked(self) -> Iterator[Store]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o755)
        fd = os.open(self.directory / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._lock_fd = fd
            yield self
        finally:
            self._lock_fd = None
            os.close(fd)  # closing drops the flock

    def _require_lock(self) -> None:
        if self._lock_fd is None:
            raise RuntimeError("store used without holding its lock")

    def reserve(self, address: IPAddress, container_id: str, ifname: str) -> bool:
        """Record ``address`` for the attachment; False if it is taken."""
        self._require_lock()
        final = self.directory / str(address)
        tmp = self.directory / f"{_TMP_PREFIX}{address}.{os.getpid()}"
        tmp.write_bytes(f"{container_id}{LINE_BREAK}{ifname}".encode())
        try:
            os.link(tmp, final)
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)
        return True

    def release(self, address: IPAddress) -> None:
        self._require_lock()
        (self.directory / str(address)).unlink(missing_ok=True)

    def reservations(self) -> list[Reservation]:
        self._require_lock()
        out = []
        for entry in self.directory.iterdir():
            address = _parse_address(entry.name)
            if address is None:
                continue
            try:
                text = entry.read_bytes().decode(errors="replace")
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    continue
                raise
            lines = text.splitlines()  # host-local writes "\r\n"; accept "\n" too
            container_id = lines[0].strip() if lines else ""
            ifname = lines[1].strip() if len(lines) > 1 else ""
            out.append(Reservation(address, container_id, ifname))
        return out

    def by_attachment(self, container_id: str, ifname: str) -> list[Reservation]:
        return [r for r in self.reservations() if r.container_id == container_id and r.ifname == ifname]

    def release_attachment(self, container_id: str, ifname: str) -> list[Reservation]:
        released = self.by_attachment(container_id, ifname)
        for r in released:
            self.release(r.address)
        return released

    def last_reserved(self, range_set: int) -> IPAddress | None:
        self._require_lock()
        try:
            return _parse_address((self.directory / f"{LAST_RESERVED_PREFIX}{range_set}").read_text().strip())
        except FileNotFoundError:
            return None

    def set_last_reserved(self, range_set: int, address: IPAddress) -> None:
        self._require_lock()
        atomic_write(self.directory / f"{LAST_RESERVED_PREFIX}{range_set}", str(address))

    def remove_stale_temp_files(self) -> None:
        """Temp files left by a process killed between write and link or rename (GC)."""
        self._require_lock()
        # ours (reservations), and atomic_write's ".<name>.<pid>.tmp" beside last_reserved_ip.<set>
        for pattern in (f"{_TMP_PREFIX}*", f".{LAST_RESERVED_PREFIX}*.tmp"):
            for entry in self.directory.glob(pattern):
                entry.unlink(missing_ok=True)
