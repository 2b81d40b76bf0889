"""The shim ↔ daemon wire format: length-prefixed blobs over a unix stream socket.

Request: a header and the raw stdin bytes. Response: a header, stdout, stderr.

The headers are NUL-separated bytes, not JSON: the shim runs once per plugin call and
``import json`` (which pulls in ``re``, ``enum``...) would cost more than the rest of its
start together. Environment entries cannot contain NUL, so the encoding is exact.

- request header: ``kubelab-cni/2 NUL <dev>:<ino> NUL KEY=VALUE NUL KEY=VALUE ...``
  (the shim's network namespace, then the forwarded environment, as the OS gives it: bytes)
- response header: ``rc=<int>``, or ``refused=<reason>`` (the shim then works in-process)

Standard library only, and only built-in modules (the shim imports it): no ``socket``,
``struct`` or ``typing`` import here.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Protocol

    class Conn(Protocol):
        def sendall(self, data: bytes, /) -> None: ...
        def recv(self, size: int, /) -> bytes: ...


MAGIC = b"kubelab-cni/2"
MAX_BLOB = 16 * 1024 * 1024


def send_blobs(sock: Conn, *blobs: bytes) -> None:
    sock.sendall(b"".join(len(b).to_bytes(4, "big") + b for b in blobs))


def _recv_exact(sock: Conn, n: int) -> bytes:
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise EOFError("peer closed the connection")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv_blobs(sock: Conn, count: int) -> list[bytes]:
    out = []
    for _ in range(count):
        size = int.from_bytes(_recv_exact(sock, 4), "big")
        if size > MAX_BLOB:
            raise ValueError(f"blob of {size} bytes is too large")
        out.append(_recv_exact(sock, size))
    return out


def encode_request(netns: tuple[int, int], env: Iterable[tuple[bytes, bytes]]) -> bytes:
    return b"\0".join([MAGIC, b"%d:%d" % netns, *(k + b"=" + v for k, v in env)])


def decode_request(header: bytes) -> tuple[list[int], dict[bytes, bytes]]:
    """(netns [dev, ino], env); ValueError if it is not a request header."""
    parts = header.split(b"\0")
    if parts[0] != MAGIC or len(parts) < 2:
        raise ValueError("not a kubelab-cni/2 request header")
    dev, _, ino = parts[1].partition(b":")
    env = {}
    for item in parts[2:]:
        key, _, value = item.partition(b"=")
        env[key] = value
    return [int(dev), int(ino)], env


def encode_reply(rc: int | None, refused: str = "") -> bytes:
    return b"rc=%d" % rc if rc is not None else b"refused=" + refused.encode()


def decode_reply(header: bytes) -> int | None:
    """The exit status, or None when the daemon refused the call."""
    key, _, value = header.partition(b"=")
    if key == b"rc":
        return int(value)
    if key == b"refused":
        return None
    raise ValueError("not a kubelab-cni/2 reply header")
