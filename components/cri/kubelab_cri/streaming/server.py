"""The streaming server: the URLs Exec, Attach and PortForward answer with, and what serves them.

The CRI call only registers the request under a random single-use token (valid for a minute)
and returns ``http://127.0.0.1:PORT/<exec|attach|portforward>/<token>``; the kubelet then
proxies the client's upgrade request there. The server checks the upgrade (SPDY/3.1, a
protocol version both sides know), switches protocols and runs the request over the streams
the client opens. The address is the loopback: only the node itself (the kubelet) reaches it.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kubelab_cri.streaming.remotecommand import PORT_FORWARD, PROTOCOLS, Channels, negotiate, status
from kubelab_cri.streaming.spdy import Session, Stream

log = logging.getLogger(__name__)
TOKEN_TTL = 60.0
KINDS = ("exec", "attach", "portforward")

# (request, protocol, channels) -> status bytes for the error stream
RemoteCommand = Callable[[Any, str, Channels], bytes]
# (request, session's new streams arrive through the returned callback) -> callback
Forwarder = Callable[[Any], Callable[[Stream], None]]


@dataclass(frozen=True)
class Pending:
    kind: str
    request: Any
    expires: float


class StreamingServer:
    def __init__(
        self,
        exec_handler: RemoteCommand,
        attach_handler: RemoteCommand,
        forwarder: Forwarder,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.exec_handler = exec_handler
        self.attach_handler = attach_handler
        self.forwarder = forwarder
        self._pending: dict[str, Pending] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(_Handler):
            streaming = server

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="streaming", daemon=True)

    @property
    def address(self) -> str:
        host, port = self.httpd.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"{host!s}:{port}"

    def start(self) -> StreamingServer:
        self._thread.start()
        log.info("streaming server on http://%s", self.address)
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url_for(self, kind: str, request: Any) -> str:
        token = secrets.token_urlsafe(12)
        now = time.monotonic()
        with self._lock:
            for old in [t for t, p in self._pending.items() if p.expires < now]:
                del self._pending[old]
            self._pending[token] = Pending(kind, request, now + TOKEN_TTL)
        return f"http://{self.address}/{kind}/{token}"

    def take(self, kind: str, token: str) -> Pending | None:
        with self._lock:
            pending = self._pending.pop(token, None)
        if pending is None or pending.kind != kind or pending.expires < time.monotonic():
            return None
        return pending


class _Handler(BaseHTTPRequestHandler):
    streaming: StreamingServer
    rbufsize = 0  # nothing of the SPDY session may be left in a read buffer after the headers
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("streaming %s: " + format, self.address_string(), *args)

    def _refuse(self, code: int, text: str) -> None:
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        if len(parts) != 2 or parts[0] not in KINDS:
            return self._refuse(404, f"no such streaming endpoint: {self.path}")
        pending = self.streaming.take(parts[0], parts[1])
        if pending is None:
            return self._refuse(404, "unknown or expired streaming token")
        if (
            "upgrade" not in self.headers.get("Connection", "").lower()
            or "spdy/3.1" not in self.headers.get("Upgrade", "").lower()
        ):
            return self._refuse(400, "unable to upgrade: this server speaks SPDY/3.1 (Connection: Upgrade)")
        ours = (PORT_FORWARD,) if pending.kind == "portforward" else PROTOCOLS
        protocol = negotiate(self.headers.get_all("X-Stream-Protocol-Version") or [], ours)
        if protocol is None:
            return self._refuse(403, f"unable to upgrade: unable to negotiate a protocol: server supports {list(ours)}")
        self.send_response(101, "Switching Protocols")
        self.send_header("Connection", "Upgrade")
        self.send_header("Upgrade", "SPDY/3.1")
        self.send_header("X-Stream-Protocol-Version", protocol)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        if pending.kind == "portforward":
            session = Session(self.connection, self.streaming.forwarder(pending.request))
            session.serve()  # until the client closes the connection
            return
        closed = threading.Event()
        channels = Channels(closed)
        session = Session(self.connection, channels.add, closed=closed)
        reader = threading.Thread(target=session.serve, daemon=True)
        reader.start()
        handler = self.streaming.exec_handler if pending.kind == "exec" else self.streaming.attach_handler
        try:
            outcome = handler(pending.request, protocol, channels)
        except Exception as exc:  # reported to the client, as the protocol wants
            log.exception("streaming %s failed", pending.kind)
            outcome = status(protocol, None, error=f"{pending.kind} failed: {exc}")
        error = channels.get("error")
        if error is not None:
            if outcome:
                error.write(outcome)
            error.close()
        for stream in list(channels.by_type.values()):
            stream.close()
        session.close()
        reader.join(timeout=5)
