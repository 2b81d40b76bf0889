"""The shim ↔ daemon wire format: length-prefixed blobs over a unix stream socket.

Request: a JSON header ``{"env": {...}, "netns": [dev, ino]}`` and the raw stdin bytes.
Response: a JSON header ``{"rc": int}`` (or ``{"rc": null, "refused": reason}``), stdout, stderr.
Standard library only (the shim imports it).
"""

from __future__ import annotations

import socket
import struct

_LEN = struct.Struct(">I")
MAX_BLOB = 16 * 1024 * 1024


def send_blobs(sock: socket.socket, *blobs: bytes) -> None:
    sock.sendall(b"".join(_LEN.pack(len(b)) + b for b in blobs))


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise EOFError("peer closed the connection")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv_blobs(sock: socket.socket, count: int) -> list[bytes]:
    out = []
    for _ in range(count):
        (size,) = _LEN.unpack(_recv_exact(sock, _LEN.size))
        if size > MAX_BLOB:
            raise ValueError(f"blob of {size} bytes is too large")
        out.append(_recv_exact(sock, size))
    return out
