"""IPAM: an allocator with host-local's semantics and on-disk store, yours to write (book 5.5).

TODO(student): ``locked``, ``reservations``, ``allocate`` and ``release`` below.

The reference plugins hand IPAM to the ``host-local`` binary; this plugin allocates itself, in
host-local's store layout, so whatever reads the store (the lab's checkpoints, a runtime's GC,
host-local itself) finds the same files. The store of a network is the directory
``<dataDir>/<network name>/``: ``conf["ipam"]["dataDir"]`` (default ``/var/lib/cni/networks``)
and ``conf["name"]``, on the lab's nodes ``/var/lib/cni/networks/kubelab/``::

    10.244.1.2          one file per reserved address, named by the address; it holds the
    10.244.1.3          attachment: "<CNI_CONTAINERID>\\r\\n<CNI_IFNAME>" (no line break at the end)
    last_reserved_ip.0  the address reserved last from range set 0 (just the address)
    lock                an empty file; every ADD, DEL and GC holds fcntl.flock(LOCK_EX) on it
                        while it reads or changes the store

The rules (host-local's):

- allocate: one address of the range (``Range.from_conf``: the subnet, or rangeStart..rangeEnd),
  never the gateway, never one that has a file. Round robin: search from the address after
  ``last_reserved_ip.0`` (from the range's start when there is none, or it is not in the range),
  wrapping at the range's end; so a freed address is not handed out again at once. Write the
  address's file, then ``last_reserved_ip.0``. An attachment that already holds an address gets
  that one back (a retried ADD must not take a second one). No free address left:
  ``CniError(CODE_RANGE_EXHAUSTED, ...)``.
- release (DEL, GC): remove the files holding (container ID, ifname); finding none is not an
  error, since DEL is idempotent (the runtime repeats it, and sends it for ADDs that failed).
- concurrency: the kubelet creates pods in parallel, so several plugin processes run at once.
  Reading the store and writing it must be one step under the lock, or two ADDs pick the same
  free address; create the file with ``os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)``
  too, so an address that is somehow taken is never overwritten.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from student_cni.errors import CODE_INVALID_CONFIG, CniError, not_implemented

DEFAULT_DATA_DIR = "/var/lib/cni/networks"
LINE_BREAK = "\r\n"
LAST_RESERVED = "last_reserved_ip.0"
LOCK = "lock"


# -- done for you: the range and where the store is ----------------------------------------------


@dataclass(frozen=True)
class Range:
    """The addresses one range hands out, with host-local's defaults (IPv4)."""

    subnet: ipaddress.IPv4Network
    start: ipaddress.IPv4Address  # rangeStart, default: the subnet's first address (.1 of a /24)
    end: ipaddress.IPv4Address  # rangeEnd, default: the last before the broadcast address (.254)
    gateway: ipaddress.IPv4Address  # gateway, default: the subnet's first address (.1); never handed out

    @classmethod
    def from_conf(cls, conf: dict[str, Any]) -> Range:
        """The first range of the first range set: ``conf["ipam"]["ranges"][0][0]`` (or ``ipam.subnet``)."""
        ipam = conf.get("ipam") or {}
        try:
            first = ipam["ranges"][0][0] if ipam.get("ranges") else ipam
            subnet = ipaddress.IPv4Network(first["subnet"])
            lo, hi = subnet.network_address + 1, subnet.broadcast_address - 1
            start = ipaddress.IPv4Address(first.get("rangeStart") or lo)
            end = ipaddress.IPv4Address(first.get("rangeEnd") or hi)
            gateway = ipaddress.IPv4Address(first.get("gateway") or lo)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise CniError(CODE_INVALID_CONFIG, "invalid IPAM range", f"{type(exc).__name__}: {exc}") from exc
        if not lo <= start <= end <= hi:
            raise CniError(CODE_INVALID_CONFIG, "invalid IPAM range", f"{start}-{end} is not inside {subnet}")
        return cls(subnet, start, end, gateway)

    def addresses(self) -> list[ipaddress.IPv4Address]:
        """start .. end, in order (the gateway included: skipping it is allocate's job)."""
        return [ipaddress.IPv4Address(i) for i in range(int(self.start), int(self.end) + 1)]


@dataclass(frozen=True)
class Lease:
    """An address reserved for an attachment: ``address`` with the prefix length, e.g. 10.244.1.5/24."""

    address: ipaddress.IPv4Interface
    gateway: ipaddress.IPv4Address


def store_dir(conf: dict[str, Any]) -> Path:
    """``<dataDir>/<network name>``: the network's store."""
    return Path((conf.get("ipam") or {}).get("dataDir") or DEFAULT_DATA_DIR) / conf["name"]


# -- TODO(student) -------------------------------------------------------------------------------


@contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold the store's lock for the ``with`` block: ``with locked(store_dir(conf)): ...``.

    TODO(student): create the directory (and parents) if missing, open ``<directory>/lock``
    (``os.open`` with ``O_RDWR | O_CREAT``), ``fcntl.flock(fd, fcntl.LOCK_EX)``, yield, and close
    the file descriptor in a ``finally`` (closing it drops the lock, also when the process dies).
    """
    raise not_implemented("ipam.locked", "ipam.py")
    yield  # (unreachable: makes this a generator, as @contextmanager needs)


def reservations(directory: Path) -> dict[str, tuple[str, str]]:
    """Every reservation in the store: address -> (container ID, ifname). Call it under ``locked``.

    TODO(student): the files whose name is an address (``ipaddress.ip_address`` accepts it; skip
    ``lock``, ``last_reserved_ip.0`` and anything else), each read as its two lines
    (``text.splitlines()``: container ID, ifname). A missing directory holds nothing.
    """
    raise not_implemented("ipam.reservations", "ipam.py")


def allocate(conf: dict[str, Any], container_id: str, ifname: str) -> Lease:
    """Reserve an address of the network's range for (container ID, ifname); see the rules above.

    TODO(student): under ``locked(store_dir(conf))``: the attachment's address if it holds one;
    else the first address in round-robin order after ``last_reserved_ip.0`` that is neither the
    gateway nor taken; create its file (``O_CREAT | O_EXCL``) holding
    ``f"{container_id}{LINE_BREAK}{ifname}"``, write ``last_reserved_ip.0``; return
    ``Lease(ipaddress.IPv4Interface(f"{address}/{prefixlen}"), gateway)``.
    """
    raise not_implemented("ipam.allocate", "ipam.py")


def release(conf: dict[str, Any], container_id: str, ifname: str) -> list[str]:
    """Remove the reservations of (container ID, ifname); the addresses released (none is fine).

    TODO(student): under ``locked(store_dir(conf))``, unlink every file ``reservations`` lists for it.
    """
    raise not_implemented("ipam.release", "ipam.py")
