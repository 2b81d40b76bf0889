"""Serving over TLS with client certificates (uvicorn), so authentication can see who connected.

The TLS layer asks every client for a certificate (optional) and accepts one signed by any CA of
the delegation (client CA or requestheader CA); which one signed it is decided per request, by
the authenticator. uvicorn does not put the peer certificate in the ASGI scope, so the HTTP
protocol here adds it (``scope["kubelab.peer_cert"]``, DER) for each connection. When the
cluster rotates a CA, :meth:`TLSServer.trust` loads the new bundle into the same context.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)
PEER_CERT = "kubelab.peer_cert"  # where the client certificate (DER) goes in the ASGI scope
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class PeerCertProtocol(H11Protocol):
    """uvicorn's h11 protocol, with the connection's client certificate in every request's scope."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        inner: ASGIApp = self.app

        async def app(
            scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]
        ) -> None:
            scope[PEER_CERT] = der
            await inner(scope, receive, send)

        self.app = app


def tls_context(cert: Path, key: Path, client_cas: bytes) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    context.verify_mode = ssl.CERT_OPTIONAL
    if client_cas.strip():
        context.load_verify_locations(cadata=client_cas.decode())
    context.set_alpn_protocols(["http/1.1"])
    return context


class TLSServer:
    def __init__(
        self, app: Any, cert: Path, key: Path, client_cas: bytes, *, host: str = "0.0.0.0", port: int = 8443
    ) -> None:
        self.context = tls_context(cert, key, client_cas)
        self.cert, self.key = cert, key
        self.config = uvicorn.Config(
            app,
            host=host,
            port=port,
            http=PeerCertProtocol,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ssl_certfile=str(cert),
            ssl_keyfile=str(key),
            ssl_context_factory=lambda _config, _default: self.context,
            timeout_graceful_shutdown=5,
        )
        self.server = uvicorn.Server(self.config)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        for server in self.server.servers:
            for sock in server.sockets:
                port: int = sock.getsockname()[1]
                return port
        return int(self.config.port)

    def trust(self, client_cas: bytes) -> None:
        """Accept client certificates from these CAs too (a rotated CA's new certificate)."""
        if client_cas.strip():
            self.context.load_verify_locations(cadata=client_cas.decode())

    async def serve(self) -> None:
        await self.server.serve()

    def start(self, timeout: float = 15.0) -> None:
        """Serve from a thread of its own (tests); returns once listening. Again after ``stop``: a new server."""
        if self._thread is not None:
            self.server = uvicorn.Server(self.config)
        self._thread = threading.Thread(target=lambda: asyncio.run(self.serve()), name="aggregated", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self.server.started:
            raise RuntimeError("the aggregated server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
