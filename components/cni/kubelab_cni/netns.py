"""Network namespaces by path: open one, and get a netlink socket or run code inside it.

Only the calling *thread* ever enters a namespace (``setns`` is per thread), and only a
short-lived helper thread does so, so a multi-threaded daemon never changes namespace
under another request. Nothing here creates a namespace: a missing path is an error.
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from kubelab_cni.protocol import CniError, Code

CLONE_NEWNET = 0x40000000
NETLINK_ROUTE = 0
NETLINK_NETFILTER = 12
T = TypeVar("T")

_libc = ctypes.CDLL(None, use_errno=True)


@contextmanager
def opened(path: str) -> Iterator[int]:
    """An fd for the namespace at ``path``; code 3 if there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise CniError(Code.UNKNOWN_CONTAINER, f"network namespace {path} does not exist") from exc
    except OSError as exc:
        raise CniError(Code.IO_FAILURE, f"cannot open network namespace {path}", str(exc)) from exc
    try:
        yield fd
    finally:
        os.close(fd)


def exists(path: str) -> bool:
    return bool(path) and os.path.exists(path)


def run_inside(fd: int, func: Callable[[], T]) -> T:
    """Call ``func`` in a helper thread that has entered the namespace ``fd``."""
    box: dict[str, object] = {}

    def body() -> None:
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise CniError(Code.UNKNOWN_CONTAINER, "not a network namespace", os.strerror(err))
            box["value"] = func()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=body, name="netns-helper")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def netlink_socket(fd: int, protocol: int = NETLINK_ROUTE) -> socket.socket:
    """A netlink socket bound to namespace ``fd`` (a socket keeps the namespace it was made in)."""
    return run_inside(fd, lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, protocol))


def write_sysctl(name: str, value: str, fd: int | None = None) -> None:
    """Write ``/proc/sys/<name>`` in this thread's namespace, or inside ``fd``."""
    path = "/proc/sys/" + name.replace(".", "/")

    def write() -> None:
        with open(path, "w") as fh:
            fh.write(value)

    if fd is None:
        write()
    else:
        run_inside(fd, write)


def read_sysctl(name: str) -> str:
    with open("/proc/sys/" + name.replace(".", "/")) as fh:
        return fh.read().strip()
