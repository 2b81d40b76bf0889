"""Port forwarding (``kubectl port-forward``): each forwarded connection is a pair of SPDY streams
(``streamType`` ``error`` and ``data``, the same ``requestID``, the pod ``port``); the data stream
is joined to a TCP connection opened to that port on the pod's loopback, inside its network
namespace. A connection that cannot be made is reported on the error stream."""

from __future__ import annotations

import contextlib
import ctypes
import os
import socket
import threading

from kubelab_cri.streaming.spdy import Stream

CLONE_NEWNET = 0x40000000


def connect_in(netns_path: str, port: int, timeout: float = 10) -> socket.socket:
    """A TCP connection to ``port`` on the loopback of the namespace at ``netns_path`` ("" = this one).

    ``setns`` moves only the calling thread, so a short-lived thread enters the namespace and
    makes the socket; the socket stays in the namespace it was made in."""
    box: dict[str, object] = {}

    def work() -> None:
        try:
            if netns_path:
                fd = os.open(netns_path, os.O_RDONLY)
                try:
                    libc = ctypes.CDLL(None, use_errno=True)
                    if libc.setns(fd, CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), f"setns {netns_path}")
                finally:
                    os.close(fd)
            last: OSError | None = None
            for host in ("127.0.0.1", "::1"):
                try:
                    box["socket"] = socket.create_connection((host, port), timeout=timeout)
                    return
                except OSError as exc:
                    last = exc
            box["error"] = last
        except OSError as exc:
            box["error"] = exc

    worker = threading.Thread(target=work, name=f"connect-{port}")
    worker.start()
    worker.join()
    if "socket" in box:
        sock = box["socket"]
        assert isinstance(sock, socket.socket)
        sock.settimeout(None)
        return sock
    raise box.get("error") or OSError(f"cannot connect to port {port}")  # type: ignore[misc]


class Forwarder:
    """The streams of one port-forward session, paired by request ID as they arrive."""

    def __init__(self, netns_path: str) -> None:
        self.netns_path = netns_path
        self._pairs: dict[str, dict[str, Stream]] = {}
        self._lock = threading.Lock()

    def add(self, stream: Stream) -> None:
        request_id = stream.headers.get("requestid", "")
        kind = stream.headers.get("streamtype", "")
        with self._lock:
            pair = self._pairs.setdefault(request_id, {})
            pair[kind] = stream
            complete = "data" in pair and "error" in pair
            if complete:
                del self._pairs[request_id]
        if complete:
            threading.Thread(target=self._forward, args=(pair["data"], pair["error"]), daemon=True).start()

    def _forward(self, data: Stream, error: Stream) -> None:
        port_text = data.headers.get("port", "")
        try:
            port = int(port_text)
            sock = connect_in(self.netns_path, port)
        except (ValueError, OSError) as exc:
            error.write(f"error forwarding port {port_text} to the pod: {exc}".encode())
            error.close()
            data.close()
            return

        def upstream() -> None:  # client -> pod
            with contextlib.suppress(OSError):
                while chunk := data.read():
                    sock.sendall(chunk)
                sock.shutdown(socket.SHUT_WR)

        sender = threading.Thread(target=upstream, daemon=True)
        sender.start()
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):
                data.write(chunk)
        data.close()
        sender.join(timeout=5)
        sock.close()
        error.close()
