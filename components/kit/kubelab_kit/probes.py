"""``/healthz`` and ``/readyz`` on a daemon's probe address (controller-runtime's
``--health-probe-bind-address``, kube-scheduler's ``/healthz``), from a small threaded HTTP
server: each check returns None when healthy, else why not (the body of the 500)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Check = Callable[[], str | None]  # None when healthy, else why not


def serve(host: str, port: int, healthz: Check, readyz: Check) -> ThreadingHTTPServer:
    checks = {"/healthz": healthz, "/readyz": readyz}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            check = checks.get(self.path.split("?", 1)[0])
            if check is None:
                self.send_error(404)
                return
            problem = check()
            body = (b"ok" if problem is None else problem.encode()) + b"\n"
            self.send_response(200 if problem is None else 500)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # probes every few seconds: not worth a log line

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="probes", daemon=True).start()
    return server
