"""One gRPC server on one unix socket: the serving scaffold of every kubelet-facing component.

A :class:`Server` serves the given servicers, each as the generated
``(add_XServicer_to_server, servicer)`` pair, plus the standard health service
(``grpc.health.v1.Health``), on a thread pool, behind a :class:`~kubelab_kit.grpc.calls.CallInterceptor`.

Guarantees:

- :meth:`Server.start` claims the path (:func:`~kubelab_kit.grpc.socket.claim`: a live socket
  is refused, a stale one removed, a non-socket never touched) and returns once the server
  serves; the socket appears at its path only then, already with ``socket_mode``;
- health reports SERVING for the overall server (``""``) and every served service name from
  the moment the socket appears, NOT_SERVING from the moment :meth:`Server.stop` begins;
- :meth:`Server.stop` (idempotent) sets NOT_SERVING, removes the socket file this server created
  (never a file at that path it did not create), refuses new calls, lets calls in flight
  finish for ``grace`` seconds, cancels the rest, and returns when the server is down (a
  stream that never ends by itself, like a health Watch or a device plugin's ListAndWatch,
  holds it for the whole grace);
- :meth:`Server.run_until_signalled` serves until SIGTERM/SIGINT, then stops as above and returns.
"""

from __future__ import annotations

import enum
import logging
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent import futures
from types import TracebackType
from typing import Any, Self

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from kubelab_kit import signals
from kubelab_kit.grpc.calls import CallInterceptor, CallMetrics
from kubelab_kit.grpc.errors import GrpcError
from kubelab_kit.grpc.socket import SocketFile, bind_target, claim, publish, socket_path, staging, unix_target

log = logging.getLogger(__name__)

AddServicer = Callable[[Any, Any], object]
"""A generated ``add_XServicer_to_server(servicer, server)`` function."""

_POLL_SECONDS = 0.5


class _State(enum.Enum):
    NEW = "new"
    SERVING = "serving"
    STOPPED = "stopped"


class _Recorder:
    """Stands in for the grpc server while servicers are added, to learn the service names they register."""

    def __init__(self, server: Any) -> None:
        self._server = server
        self.names: list[str] = []

    def _note(self, name: str) -> None:
        if name and name not in self.names:
            self.names.append(name)

    def add_generic_rpc_handlers(self, handlers: Iterable[Any]) -> None:
        handlers = tuple(handlers)
        for handler in handlers:
            service_name = getattr(handler, "service_name", None)
            if callable(service_name):
                self._note(str(service_name()))
        self._server.add_generic_rpc_handlers(handlers)

    def add_registered_method_handlers(self, service_name: str, method_handlers: Any) -> None:
        self._note(service_name)
        self._server.add_registered_method_handlers(service_name, method_handlers)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)


class Server:
    """Serves servicers on the unix socket ``path`` (see the module docstring for the guarantees).

    ``services`` are generated ``(add_XServicer_to_server, servicer)`` pairs; ``handlers`` are
    extra ``grpc.GenericRpcHandler`` objects (``grpc.method_handlers_generic_handler(...)``).
    ``path`` may be a path or a ``unix://`` endpoint. Not restartable: one start, one stop.

    At most ``max_workers`` calls run at once (more wait in grpc's queue); a streaming call
    holds its worker until the stream ends, so size the pool for the streams the peers keep
    open (the kubelet keeps one ListAndWatch per device plugin). ``socket_mode`` is the
    socket's exact mode; ``dir_mode`` that of parent directories this server creates.
    ``ok_level`` is the log level of successful calls (DEBUG for a socket the kubelet polls).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        services: Iterable[tuple[AddServicer, object]] = (),
        *,
        handlers: Iterable[Any] = (),
        max_workers: int = 8,
        socket_mode: int = 0o660,
        dir_mode: int = 0o750,
        grace: float = 5.0,
        ok_level: int = logging.INFO,
        metrics: CallMetrics | None = None,
        options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        self.path = socket_path(path)
        self.target = unix_target(self.path)
        self.grace = grace
        self.health = health.HealthServicer()
        self.interceptor = CallInterceptor(metrics, ok_level=ok_level)
        self._services = list(services)
        self._handlers = list(handlers)
        self._max_workers = max_workers
        self._socket_mode = socket_mode
        self._dir_mode = dir_mode
        self._options = list(options)
        self._transition = threading.Lock()  # held for a whole start or stop: a stop waits for a start
        self._state = _State.NEW
        self._stopped = threading.Event()
        self._server: Any = None
        self._pool: futures.ThreadPoolExecutor | None = None
        self._socket: SocketFile | None = None
        self._names: tuple[str, ...] = ()

    @property
    def metrics(self) -> CallMetrics:
        """Counts and durations of the calls this server handled."""
        return self.interceptor.metrics

    @property
    def service_names(self) -> tuple[str, ...]:
        """The full names of the services served (health's own excluded); known once started."""
        return self._names

    @property
    def serving(self) -> bool:
        """Started (fully) and not yet stopping."""
        return self._state is _State.SERVING

    def start(self) -> Self:
        """Claim the socket and serve on it; returns once clients can call. Raises :class:`GrpcError`."""
        with self._transition:
            if self._state is not _State.NEW:
                raise GrpcError(f"the server on {self.path} was already started", fix="create a new Server")
            try:
                self._start()
            except BaseException:
                self._state = _State.STOPPED
                self._shutdown(0)
                raise
            self._state = _State.SERVING
        log.info("serving %s on %s", ", ".join(self._names) or "(health only)", self.path)
        return self

    def _start(self) -> None:
        path = claim(self.path, dir_mode=self._dir_mode)
        self._pool = futures.ThreadPoolExecutor(self._max_workers, thread_name_prefix=f"grpc:{path.name}")
        self._server = grpc.server(self._pool, interceptors=[self.interceptor], options=self._options)
        recorder = _Recorder(self._server)
        for add, servicer in self._services:
            add(servicer, recorder)
        if self._handlers:
            recorder.add_generic_rpc_handlers(self._handlers)
        self._names = tuple(recorder.names)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        for name in self._names:
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        with staging(path) as staged:
            try:
                self._server.add_insecure_port(bind_target(staged))
            except RuntimeError as exc:
                raise GrpcError(
                    f"grpc could not listen on a unix socket beside {path}: {exc}",
                    fix="rerun with GRPC_VERBOSITY=debug to see why",
                ) from exc
            self._server.start()
            self._socket = publish(staged, path, mode=self._socket_mode)

    def set_serving(self, serving: bool, service: str | None = None) -> None:
        """Report ``service`` (default: the server and every served service) SERVING or NOT_SERVING.

        Ignored once :meth:`stop` began: a stopping server stays NOT_SERVING.
        """
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in ("", *self._names) if service is None else (service,):
            self.health.set(name, status)

    def stop(self, grace: float | None = None) -> None:
        """Stop serving (see the module docstring); ``grace`` defaults to the one given at construction."""
        with self._transition:
            if self._state is not _State.SERVING:
                return
            self._state = _State.STOPPED
            grace = self.grace if grace is None else grace
            log.info("stopping the server on %s (grace %gs)", self.path, grace)
            self.health.enter_graceful_shutdown()
            self._shutdown(grace)

    def _shutdown(self, grace: float) -> None:
        if self._socket is not None and not self._socket.remove() and self._socket.path.exists():
            log.warning("left %s in place: it is no longer the socket this server created", self.path)
        if self._server is not None:
            self._server.stop(grace).wait()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._stopped.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server has stopped (by :meth:`stop` from elsewhere); False on timeout."""
        return self._stopped.wait(timeout)

    def serve_forever(self, stop: threading.Event, grace: float | None = None) -> None:
        """Start if not yet started, serve until ``stop`` is set (or :meth:`stop` is called), then stop."""
        if self._state is _State.NEW:
            self.start()
        while not stop.wait(_POLL_SECONDS):
            if self._stopped.is_set():
                return
        self.stop(grace)

    def run_until_signalled(self, stop: threading.Event | None = None, grace: float | None = None) -> None:
        """Serve until SIGTERM or SIGINT (main thread only), then stop gracefully and return."""
        signals.run_until_signalled(lambda event: self.serve_forever(event, grace), stop)

    def __enter__(self) -> Self:
        if self._state is _State.NEW:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Server({str(self.path)!r}, {self._state.value})"
