"""Serve the webhook app over TLS (uvicorn in its own thread) and pick up rotated certificates.

uvicorn builds one ``SSLContext`` at start; :func:`reload_certificates` loads the new pair
into that same context (``load_cert_chain``), so new connections get the new certificate
without a restart and connections in flight are not cut.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
from pathlib import Path

import uvicorn

from kubelab_operator.webhooks.app import create_app

log = logging.getLogger(__name__)


class WebhookServer:
    def __init__(self, cert_dir: Path, host: str = "0.0.0.0", port: int = 9443) -> None:
        self.cert_dir = cert_dir
        self.config = uvicorn.Config(
            create_app(),
            host=host,
            port=port,
            ssl_certfile=str(cert_dir / "tls.crt"),
            ssl_keyfile=str(cert_dir / "tls.key"),
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        self.server = uvicorn.Server(self.config)
        self._thread: threading.Thread | None = None
        self._stamp: tuple[float, float] | None = None

    @property
    def serving(self) -> bool:
        return bool(self.server.started)

    def start(self) -> None:
        self.config.load()  # builds the SSLContext now, from the files the certificate manager wrote
        self._stamp = self._mtimes()
        self._thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), name="webhooks", daemon=True)
        self._thread.start()

    def _mtimes(self) -> tuple[float, float]:
        return (self.cert_dir / "tls.crt").stat().st_mtime, (self.cert_dir / "tls.key").stat().st_mtime

    def reload_certificates(self) -> bool:
        """Load the files again if they changed; returns whether they did."""
        stamp = self._mtimes()
        if stamp == self._stamp or not isinstance(self.config.ssl, ssl.SSLContext):
            return False
        self.config.ssl.load_cert_chain(str(self.cert_dir / "tls.crt"), str(self.cert_dir / "tls.key"))
        self._stamp = stamp
        log.info("webhooks: serving the rotated certificate")
        return True

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
