"""Attach (``kubectl attach``): the client's streams joined to the container's own stdio through
its monitor's attach socket (:mod:`kubelab_cri.runtime.attach_socket`), until the container
exits or the client goes."""

from __future__ import annotations

import contextlib
import socket
import threading

from kubelab_cri.runtime import attach_socket as frames
from kubelab_cri.streaming.remotecommand import Channels, Wanted, resize_events


def run(path: str, wanted: Wanted, channels: Channels) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    stdin, stdout, stderr, resize = (channels.get(k) for k in ("stdin", "stdout", "stderr", "resize"))
    lock = threading.Lock()

    def send(kind: int, payload: bytes = b"") -> None:
        with lock, contextlib.suppress(OSError):
            frames.send_frame(sock, kind, payload)

    if stdin is not None:

        def feed() -> None:
            while chunk := stdin.read():
                send(frames.STDIN, chunk)
            send(frames.CLOSE_STDIN)

        threading.Thread(target=feed, daemon=True).start()
    if resize is not None:

        def follow() -> None:
            for width, height in resize_events(resize):
                send(frames.RESIZE, f"{width} {height}".encode())

        threading.Thread(target=follow, daemon=True).start()

    def watch_client() -> None:  # the client went away: stop reading the container's output
        channels.closed.wait()
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    threading.Thread(target=watch_client, daemon=True).start()
    try:
        while True:
            kind, payload = frames.recv_frame(sock)
            if kind == frames.EXIT:
                break
            target = stderr if kind == frames.STDERR and stderr is not None else stdout
            if target is not None and (kind == frames.STDOUT or (kind == frames.STDERR and wanted.stderr)):
                target.write(payload)
    except (OSError, ConnectionError):
        pass
    finally:
        sock.close()
