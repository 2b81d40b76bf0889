"""``kubelab-cni-daemon``: the long-lived half of the thick plugin.

It imports pyroute2 and the command code once, then serves plugin calls forwarded by the
``kubelab-cni`` shim on a unix socket, each call on one of a pool of long-lived worker
threads (started on demand, never more than ``MAX_WORKERS``) that keep their node-side
netlink handle between calls. Calls for one container ID are
serialized by the same per-container file lock the in-process path takes. The daemon must
run in the network namespace the runtime runs plugins in (the node's); a shim from another
namespace is refused and does the work itself.

It runs until SIGTERM or SIGINT (``kubelab_kit.signals``): the serving loop stops, the
workers are told to finish, the socket is removed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import queue
import socket
import socketserver
import sys
import threading
import time

from kubelab_cni import wire
from kubelab_cni.paths import socket_path
from kubelab_kit.entry import entry_point
from kubelab_kit.errors import KubelabError
from kubelab_kit.logs import setup_logging
from kubelab_kit.signals import stop_on_signals

log = logging.getLogger("kubelab-cni-daemon")


class SocketInUse(KubelabError):
    """Another daemon answers on the socket this one was to listen on."""

    area = "cni"


def preload() -> None:
    """Import everything a call needs, and open one netlink socket, so the first call is fast too."""
    from kubelab_cni.commands import add, check, delete, gc, status, version  # noqa: F401
    from kubelab_cni.netlink import host

    with host() as ipr:
        ipr.link_lookup(ifname="lo")


def _own_netns() -> list[int]:
    st = os.stat("/proc/self/ns/net")
    return [st.st_dev, st.st_ino]


class _Handler(socketserver.BaseRequestHandler):
    server: Server

    def handle(self) -> None:
        from kubelab_cni.commands import run

        sock: socket.socket = self.request
        started = time.perf_counter()
        try:
            raw_header, stdin = wire.recv_blobs(sock, 2)
            if raw_header.startswith(b"{"):  # a shim from before the kubelab-cni/2 header
                legacy = json.loads(raw_header)
                netns = legacy.get("netns")
                env = {str(k): str(v) for k, v in (legacy.get("env") or {}).items()}
            else:
                netns, raw_env = wire.decode_request(raw_header)
                env = {os.fsdecode(k): os.fsdecode(v) for k, v in raw_env.items()}
                legacy = None
        except (EOFError, ValueError, OSError) as exc:
            log.warning("bad request: %s", exc)
            return

        def reply(rc: int | None, out: bytes = b"", err: bytes = b"", refused: str = "") -> None:
            if legacy is None:
                header = wire.encode_reply(rc, refused)
            else:
                header = json.dumps({"rc": rc, "refused": refused} if rc is None else {"rc": rc}).encode()
            wire.send_blobs(sock, header, out, err)

        if netns != self.server.netns:
            reply(None, refused="different network namespace")
            return
        outcome = run(env, stdin)
        try:
            reply(outcome.rc, outcome.stdout, outcome.stderr)
        except OSError as exc:
            log.warning("could not answer %s: %s", env.get("CNI_COMMAND"), exc)
        log.info(
            "%s %s %s rc=%d %.1f ms",
            env.get("CNI_COMMAND"),
            env.get("CNI_CONTAINERID", "-"),
            env.get("CNI_IFNAME", "-"),
            outcome.rc,
            (time.perf_counter() - started) * 1000,
        )


MAX_WORKERS = 64


class Server(socketserver.UnixStreamServer):
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, path: str) -> None:
        self.netns = _own_netns()
        self.path = path
        self._queue: queue.SimpleQueue[socket.socket | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._workers = 0
        self._idle = 0
        _claim(path)
        old = os.umask(0o077)
        try:
            super().__init__(path, _Handler)
        finally:
            os.umask(old)

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        """Hand the call to an idle worker, starting one if none is idle (up to ``MAX_WORKERS``;
        beyond that calls wait in the queue: every call a worker waits on is already running)."""
        with self._lock:
            if self._idle > 0:
                self._idle -= 1
            elif self._workers < MAX_WORKERS:
                self._workers += 1
                threading.Thread(target=self._work, name=f"worker-{self._workers}", daemon=True).start()
        self._queue.put(request)

    def _work(self) -> None:
        from kubelab_cni.netlink import drop_host_socket, keep_host_socket

        keep_host_socket()
        try:
            while (request := self._queue.get()) is not None:
                try:
                    self.finish_request(request, request.getpeername())
                except Exception:
                    self.handle_error(request, None)
                finally:
                    self.shutdown_request(request)
                    with self._lock:
                        self._idle += 1
        finally:
            drop_host_socket()

    def server_close(self) -> None:
        super().server_close()
        with self._lock:
            for _ in range(self._workers):
                self._queue.put(None)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def _claim(path: str) -> None:
    """Remove a stale socket; refuse if another daemon answers on it."""
    os.makedirs(os.path.dirname(path) or ".", mode=0o755, exist_ok=True)
    if not os.path.exists(path):
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        os.unlink(path)
        return
    finally:
        probe.close()
    raise SocketInUse(
        f"another daemon is listening on {path}",
        fix="stop that kubelab-cni-daemon (or the node's agent), or pass --socket / set KUBELAB_CNI_SOCKET",
    )


def serve(server: Server, stop: threading.Event, poll_interval: float = 0.1) -> None:
    """Serve on a background thread until ``stop`` is set, then close the server.

    The serving loop notices a shutdown only between polls, so ``poll_interval`` is how long
    a SIGTERM may wait (an idle wake-up every 0.1 s costs nothing measurable).
    """
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": poll_interval}, name="serve", daemon=True
    )
    thread.start()
    try:
        stop.wait()
    finally:
        server.shutdown()
        server.server_close()


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubelab-cni-daemon", description=__doc__)
    parser.add_argument("--socket", default=socket_path(), help="unix socket path (default: %(default)s)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every call to stderr")
    args = parser.parse_args(argv)
    setup_logging(quiet=not args.verbose)  # -v: every call at INFO; else warnings only
    stop = stop_on_signals()
    preload()
    server = Server(args.socket)
    print(f"kubelab-cni-daemon: listening on {args.socket}", file=sys.stderr, flush=True)
    serve(server, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
