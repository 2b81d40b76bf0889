"""The remote command protocol (``kubectl exec``/``attach``) on SPDY: which streams, which status.

The client names its protocol versions in ``X-Stream-Protocol-Version``; the server picks the
newest it knows. The client then opens one stream per channel, each with a ``streamType``
header: ``error`` (always), ``stdin``, ``stdout``, ``stderr`` (not with a TTY) and ``resize``
(with a TTY, v3 and later: JSON ``{"Width":..,"Height":..}`` values). When the command ends the
server writes its status on ``error`` — v4: a Kubernetes ``Status`` (``NonZeroExitCode`` with
the exit code as a cause), earlier versions: plain text — and closes everything.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from kubelab_cri.streaming.spdy import Stream

V4, V3, V2, V1 = "v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"
PROTOCOLS = (V4, V3, V2, V1)
PORT_FORWARD = "portforward.k8s.io"
STREAM_CREATION_TIMEOUT = 30.0


def negotiate(offered: list[str], ours: tuple[str, ...]) -> str | None:
    """Our newest protocol among the client's (header values may be comma-separated lists)."""
    theirs = {p.strip() for value in offered for p in value.split(",") if p.strip()}
    return next((p for p in ours if p in theirs), None)


@dataclass(frozen=True)
class Wanted:
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool

    def stream_types(self, protocol: str) -> set[str]:
        types = {"error"}
        if self.stdin:
            types.add("stdin")
        if self.stdout:
            types.add("stdout")
        if self.stderr and not self.tty:
            types.add("stderr")
        if self.tty and protocol in (V4, V3):
            types.add("resize")
        return types


class Channels:
    """The streams of one request, collected as the client opens them."""

    def __init__(self, closed: threading.Event | None = None) -> None:
        self.by_type: dict[str, Stream] = {}
        self._arrived = threading.Condition()
        self.closed = closed or threading.Event()  # set when the client's connection is gone

    def add(self, stream: Stream) -> None:
        with self._arrived:
            self.by_type[stream.headers.get("streamtype", "")] = stream
            self._arrived.notify_all()

    def wait_for(self, types: set[str], timeout: float = STREAM_CREATION_TIMEOUT) -> bool:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not types <= set(self.by_type):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._arrived.wait(left)
        return True

    def get(self, kind: str) -> Stream | None:
        return self.by_type.get(kind)


def status(protocol: str, exit_code: int | None, error: str = "", command: list[str] | None = None) -> bytes:
    """What goes on the error stream when the command is over."""
    if protocol != V4:
        if error:
            return error.encode()
        return b"" if not exit_code else f"command terminated with non-zero exit code: {exit_code}".encode()
    if error:
        doc: dict[str, object] = {"metadata": {}, "status": "Failure", "message": error, "reason": "InternalError"}
    elif exit_code:
        doc = {
            "metadata": {},
            "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command {command or []}, "
            f"exit code {exit_code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(exit_code)}]},
        }
    else:
        doc = {"metadata": {}, "status": "Success"}
    return json.dumps(doc).encode()


def resize_events(stream: Stream) -> Iterator[tuple[int, int]]:
    """(width, height) for each JSON value the client sends on the resize stream, until it ends."""
    buffer, decoder = "", json.JSONDecoder()
    while chunk := stream.read():
        buffer += chunk.decode(errors="replace")
        while buffer.strip():
            buffer = buffer.lstrip()
            try:
                value, end = decoder.raw_decode(buffer)
            except ValueError:
                break  # an incomplete value: wait for the rest
            buffer = buffer[end:]
            if isinstance(value, dict):
                yield int(value.get("Width", 0)), int(value.get("Height", 0))
