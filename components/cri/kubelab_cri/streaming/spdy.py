"""SPDY/3.1, the server side of what the kubelet speaks to a runtime's streaming server.

``kubectl exec``, ``attach`` and ``port-forward`` reach the kubelet over WebSockets or SPDY; the
last hop, kubelet to runtime, is SPDY/3.1 in Kubernetes 1.37 (KEP-4006 leaves it so). The
client opens one stream per channel (SYN_STREAM with headers naming it) and the server answers
each (SYN_REPLY); data flows as DATA frames, a FIN flag half-closes a stream. Header blocks are
zlib streams primed with the SPDY/3 dictionary (generated from the pinned Go module into
``kubelab_protos.gen.spdy``), one compression context per direction for the whole connection.

Only what the Kubernetes clients use is implemented: no server push, no priorities, and no
flow-control windows (Go's spdystream, the client here, neither sends nor honours them).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from kubelab_protos.gen.spdy import DICTIONARY

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01
RST_CANCEL, RST_INTERNAL_ERROR = 5, 6
MAX_DATA = 32 * 1024


class ProtocolError(Exception):
    """The peer sent something that is not SPDY/3."""


def encode_headers(headers: dict[str, str]) -> bytes:
    out = [struct.pack(">I", len(headers))]
    for name, value in headers.items():
        n, v = name.lower().encode(), value.encode()
        out += [struct.pack(">I", len(n)), n, struct.pack(">I", len(v)), v]
    return b"".join(out)


def decode_headers(raw: bytes) -> dict[str, str]:
    """Name/value pairs (several values of a name are NUL-separated: the first is kept)."""
    try:
        (count,) = struct.unpack_from(">I", raw, 0)
        offset, headers = 4, {}
        for _ in range(count):
            (n,) = struct.unpack_from(">I", raw, offset)
            name = raw[offset + 4 : offset + 4 + n].decode()
            offset += 4 + n
            (v,) = struct.unpack_from(">I", raw, offset)
            value = raw[offset + 4 : offset + 4 + v].decode()
            offset += 4 + v
            headers[name] = value.split("\0", 1)[0]
    except (struct.error, UnicodeDecodeError) as exc:
        raise ProtocolError(f"a malformed header block: {exc}") from exc
    return headers


class Stream:
    """One SPDY stream: read what the client sends (until its FIN), write back (FIN on close)."""

    def __init__(self, session: Session, stream_id: int, headers: dict[str, str]) -> None:
        self.session = session
        self.id = stream_id
        self.headers = headers
        self._buffer = bytearray()
        self._remote_closed = False
        self._local_closed = False
        self._ready = threading.Condition()

    # -- from the client -----------------------------------------------------------------------
    def _received(self, data: bytes, fin: bool) -> None:
        with self._ready:
            self._buffer += data
            self._remote_closed = self._remote_closed or fin
            self._ready.notify_all()

    def _reset(self) -> None:
        with self._ready:
            self._remote_closed = self._local_closed = True
            self._ready.notify_all()

    def read(self, limit: int = 65536) -> bytes:
        """Some bytes, blocking; b"" once the client half-closed the stream (or the session ended)."""
        with self._ready:
            while not self._buffer and not self._remote_closed:
                self._ready.wait()
            chunk = bytes(self._buffer[:limit])
            del self._buffer[:limit]
            return chunk

    # -- to the client -------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        for start in range(0, len(data), MAX_DATA):
            if self._local_closed:
                return
            self.session.send_data(self.id, data[start : start + MAX_DATA], fin=False)

    def close(self) -> None:
        """Half-close: FIN, nothing more from us on this stream."""
        if not self._local_closed:
            self._local_closed = True
            self.session.send_data(self.id, b"", fin=True)


@dataclass
class Session:
    """A server-side SPDY/3.1 connection over ``sock``. ``on_stream`` is called (in the reader
    thread) for every stream the client opens, after the server has replied to it."""

    sock: socket.socket
    on_stream: Callable[[Stream], None]
    streams: dict[int, Stream] = field(default_factory=dict)
    closed: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)
        self._deflate = zlib.compressobj(zdict=DICTIONARY)
        self._write_lock = threading.Lock()
        self._last_stream = 0

    # -- writing -------------------------------------------------------------------------------
    def _send(self, frame: bytes) -> None:
        with self._write_lock:
            if self.closed.is_set():
                return
            try:
                self.sock.sendall(frame)
            except OSError:
                self.closed.set()

    def _control(self, kind: int, flags: int, payload: bytes) -> None:
        self._send(struct.pack(">HHI", 0x8000 | VERSION, kind, (flags << 24) | len(payload)) + payload)

    def _header_block(self, headers: dict[str, str]) -> bytes:
        with self._write_lock:  # one compression context: blocks go out in the order compressed
            return self._deflate.compress(encode_headers(headers)) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    def send_data(self, stream_id: int, data: bytes, fin: bool) -> None:
        self._send(struct.pack(">II", stream_id & 0x7FFFFFFF, ((FLAG_FIN if fin else 0) << 24) | len(data)) + data)

    def reply(self, stream_id: int, headers: dict[str, str] | None = None) -> None:
        self._control(SYN_REPLY, 0, struct.pack(">I", stream_id) + self._header_block(headers or {}))

    def reset(self, stream_id: int, status: int = RST_CANCEL) -> None:
        self._control(RST_STREAM, 0, struct.pack(">II", stream_id, status))

    def go_away(self) -> None:
        self._control(GOAWAY, 0, struct.pack(">II", self._last_stream, 0))

    # -- reading -------------------------------------------------------------------------------
    def _read_exact(self, n: int) -> bytes:
        chunks, got = [], 0
        while got < n:
            chunk = self.sock.recv(n - got)
            if not chunk:
                raise ConnectionError("the client closed the connection")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def serve(self) -> None:
        """Read frames until the connection ends; then every stream reads as closed."""
        try:
            while not self.closed.is_set():
                head = self._read_exact(8)
                first, flags_length = struct.unpack(">II", head)
                flags, length = flags_length >> 24, flags_length & 0xFFFFFF
                payload = self._read_exact(length) if length else b""
                if first & 0x80000000:
                    version, kind = (first >> 16) & 0x7FFF, first & 0xFFFF
                    if version != VERSION:
                        raise ProtocolError(f"SPDY version {version}, this server speaks {VERSION}")
                    self._on_control(kind, flags, payload)
                else:
                    stream = self.streams.get(first & 0x7FFFFFFF)
                    if stream is not None:
                        stream._received(payload, bool(flags & FLAG_FIN))
        except (OSError, ConnectionError, ProtocolError, zlib.error):
            pass
        finally:
            self.closed.set()
            for stream in list(self.streams.values()):
                stream._reset()

    def _on_control(self, kind: int, flags: int, payload: bytes) -> None:
        if kind == SYN_STREAM:
            stream_id = struct.unpack_from(">I", payload, 0)[0] & 0x7FFFFFFF
            headers = decode_headers(self._inflate.decompress(payload[10:]))
            self._last_stream = max(self._last_stream, stream_id)
            stream = Stream(self, stream_id, headers)
            self.streams[stream_id] = stream
            self.reply(stream_id)
            if flags & FLAG_FIN:
                stream._received(b"", True)
            self.on_stream(stream)
        elif kind == HEADERS:
            self._inflate.decompress(payload[4:])  # keep the shared context in step; nothing to use
        elif kind == RST_STREAM:
            gone = self.streams.get(struct.unpack_from(">I", payload, 0)[0] & 0x7FFFFFFF)
            if gone is not None:
                gone._reset()
        elif kind == PING:
            self._control(PING, 0, payload[:4])
        elif kind == GOAWAY:
            self.closed.set()
        # SETTINGS and WINDOW_UPDATE: no flow control here (see the module's docstring)

    def close(self) -> None:
        self.go_away()
        self.closed.set()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
