"""The container monitor's attach socket (``attach.sock`` in the container's state directory):
how ``kubectl attach`` reaches a running container's own stdio.

Frames both ways: one byte of kind, four bytes of length (big-endian), the payload. The
monitor sends ``STDOUT``/``STDERR`` (what the container writes, as it is logged) and ``EXIT``
(payload: the exit code) to every attached client; a client sends ``STDIN`` data, ``CLOSE_STDIN``
(honoured for a ``stdin_once`` container: its input ends with the first attach) and ``RESIZE``
(payload ``"<width> <height>"``, for a TTY).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable

STDIN, STDOUT, STDERR, CLOSE_STDIN, RESIZE, EXIT = 0, 1, 2, 3, 4, 9
NAME = "attach.sock"
HEADER = struct.Struct(">BI")


def send_frame(sock: socket.socket, kind: int, payload: bytes = b"") -> None:
    sock.sendall(HEADER.pack(kind, len(payload)) + payload)


def recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(n - got)
        if not chunk:
            raise ConnectionError("closed")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket) -> tuple[int, bytes]:
    kind, length = HEADER.unpack(recv_exact(sock, HEADER.size))
    return kind, recv_exact(sock, length) if length else b""


class AttachServer:
    """The monitor's side: accept clients, fan the container's output out to them, feed their input in."""

    def __init__(
        self,
        path: str,
        write_input: Callable[[bytes], None] | None,
        close_input: Callable[[], None] | None,
        resize: Callable[[int, int], None] | None,
    ) -> None:
        self.write_input = write_input
        self.close_input = close_input
        self.resize = resize
        self._clients: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(path)
        self._listener.listen(8)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._clients.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            while True:
                kind, payload = recv_frame(conn)
                if kind == STDIN and self.write_input is not None:
                    self.write_input(payload)
                elif kind == CLOSE_STDIN and self.close_input is not None:
                    self.close_input()
                elif kind == RESIZE and self.resize is not None:
                    width, height = (int(x) for x in payload.split())
                    self.resize(width, height)
        except (OSError, ConnectionError, ValueError):
            pass
        finally:
            with self._lock:
                self._clients.discard(conn)
            conn.close()

    def broadcast(self, stream: str, data: bytes) -> None:
        kind = STDERR if stream == "stderr" else STDOUT
        with self._lock:
            clients = list(self._clients)
        for conn in clients:
            with contextlib.suppress(OSError):
                send_frame(conn, kind, data)

    def finish(self, exit_code: int) -> None:
        with self._lock:
            clients = list(self._clients)
        for conn in clients:
            with contextlib.suppress(OSError):
                send_frame(conn, EXIT, str(exit_code).encode())
                conn.shutdown(socket.SHUT_RDWR)
        self._listener.close()
