"""Every call a server handles: one log line and one metrics sample, whatever the handler does.

:class:`CallInterceptor` wraps each method handler (unary or streaming, either direction) and
guarantees, for every call that reaches a handler:

- exactly one log line on logger ``kubelab_kit.grpc.calls``, when the call ends (for a stream,
  when the stream ends or is cancelled): ``<full method> <CODE> <ms>ms[: <details>]``, with
  ``extra`` fields ``grpc_method``, ``grpc_code`` and ``duration_ms``;
- exactly one sample in :class:`CallMetrics`, keyed by ``(method, code name)``;
- a :class:`~kubelab_kit.grpc.errors.GrpcStatusError` raised by the handler ends the call with
  its code and details;
- any other exception ends the call with ``UNKNOWN`` (as grpc itself does) and details
  ``<ExceptionType>: <message>``, and is logged with its traceback at ERROR;
- a status the handler set itself (``context.abort``, ``context.set_code``) is kept as it is.

A method no handler serves is logged and counted as ``UNIMPLEMENTED``. The log level follows
the code (as go-grpc-middleware does): ``ok_level`` for OK, INFO for codes that are the
client's business (NOT_FOUND, ALREADY_EXISTS, ...), WARNING for the server's state
(FAILED_PRECONDITION, UNAVAILABLE, UNIMPLEMENTED, ...), ERROR for UNKNOWN, INTERNAL and DATA_LOSS.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc

from kubelab_kit.grpc.errors import GrpcStatusError

log = logging.getLogger(__name__)

_INFO_CODES = frozenset({"CANCELLED", "INVALID_ARGUMENT", "NOT_FOUND", "ALREADY_EXISTS", "UNAUTHENTICATED"})
_ERROR_CODES = frozenset({"UNKNOWN", "INTERNAL", "DATA_LOSS"})
# Attributes grpc reads off a behavior (the health service's Watch sets them); a wrapper keeps them.
_BEHAVIOR_ATTRIBUTES = ("experimental_non_blocking", "experimental_thread_pool")


def code_name(code: Any) -> str:
    """``"NOT_FOUND"`` for ``grpc.StatusCode.NOT_FOUND`` or ``"NOT_FOUND"``."""
    return code if isinstance(code, str) else str(code.name)


def level_for(code: Any, ok_level: int = logging.INFO) -> int:
    """The log level of a call that ended with ``code``."""
    name = code_name(code)
    if name == "OK":
        return ok_level
    if name in _INFO_CODES:
        return logging.INFO
    if name in _ERROR_CODES:
        return logging.ERROR
    return logging.WARNING


@dataclass(frozen=True)
class CallStats:
    """Calls of one (method, code): how many, and their summed duration."""

    count: int = 0
    total_seconds: float = 0.0

    @property
    def mean_ms(self) -> float:
        return 1000 * self.total_seconds / self.count if self.count else 0.0

    def add(self, seconds: float) -> CallStats:
        return CallStats(self.count + 1, self.total_seconds + seconds)


class CallMetrics:
    """In-process call counters, safe to share between threads and servers.

    Readers get consistent values: each read takes the lock once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats: dict[tuple[str, str], CallStats] = {}

    def record(self, method: str, code: Any, seconds: float) -> None:
        key = (method, code_name(code))
        with self._lock:
            self._stats[key] = self._stats.get(key, CallStats()).add(seconds)

    def snapshot(self) -> dict[tuple[str, str], CallStats]:
        """A copy: ``{(method, code name): CallStats}``."""
        with self._lock:
            return dict(self._stats)

    def count(self, method: str | None = None, code: Any = None) -> int:
        """Calls ended so far, optionally only of ``method`` and/or ``code``."""
        return sum(stats.count for stats in self._matching(method, code))

    def total_seconds(self, method: str | None = None, code: Any = None) -> float:
        """Summed duration of the calls :meth:`count` counts."""
        return sum(stats.total_seconds for stats in self._matching(method, code))

    def reset(self) -> None:
        with self._lock:
            self._stats.clear()

    def _matching(self, method: str | None, code: Any) -> list[CallStats]:
        name = None if code is None else code_name(code)
        return [
            stats
            for (m, c), stats in self.snapshot().items()
            if (method is None or m == method) and (name is None or c == name)
        ]


class _Call:
    """One call in flight: it ends once (the first of: handler returns/raises, stream ends, RPC terminates)."""

    def __init__(self, interceptor: CallInterceptor, method: str) -> None:
        self._interceptor = interceptor
        self._method = method
        self._start = time.monotonic()
        self._lock = threading.Lock()
        self._ended = False

    def end(self, code: Any, details: str = "", *, exc_info: BaseException | None = None) -> None:
        with self._lock:
            if self._ended:
                return
            self._ended = True
        self._interceptor.report(self._method, code, time.monotonic() - self._start, details, exc_info)

    def returned(self, context: Any) -> None:
        """The handler finished without raising: whatever status it set, else OK (or CANCELLED if the client left)."""
        code = context.code()
        if code is None:
            code = grpc.StatusCode.OK if context.is_active() else grpc.StatusCode.CANCELLED
        self.end(code, _text(context.details()))

    def terminated(self, context: Any) -> None:
        """The RPC is over; if the handler's side did not end it, the client or a server stop did."""
        code = context.code()
        self.end(grpc.StatusCode.CANCELLED if code is None else code, _text(context.details()))

    def failed(self, context: Any, exc: Exception) -> None:
        """The handler raised: end the call with the status the exception stands for; raises (grpc's abort)."""
        set_code = context.code()
        if isinstance(exc, GrpcStatusError):
            code, details = exc.code, exc.details
            self.end(code, details)
        elif set_code is not None and set_code != grpc.StatusCode.OK:
            code, details = set_code, _text(context.details()) or str(exc)
            self.end(code, details)
        else:
            code, details = grpc.StatusCode.UNKNOWN, f"{type(exc).__name__}: {exc}"
            self.end(code, details, exc_info=exc)
        context.abort(code, details)


def _text(details: bytes | str | None) -> str:
    if details is None:
        return ""
    return details.decode(errors="replace") if isinstance(details, bytes) else details


class CallInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]  # grpc is untyped
    """A ``grpc.ServerInterceptor`` that logs and counts every call (see the module docstring)."""

    def __init__(self, metrics: CallMetrics | None = None, *, ok_level: int = logging.INFO) -> None:
        self.metrics = metrics if metrics is not None else CallMetrics()
        self.ok_level = ok_level

    def report(self, method: str, code: Any, seconds: float, details: str, exc_info: BaseException | None) -> None:
        """Record one ended call: the metrics sample, then the log line."""
        name = code_name(code)
        self.metrics.record(method, name, seconds)
        ms = seconds * 1000
        log.log(
            level_for(name, self.ok_level),
            "%s %s %.2fms%s",
            method,
            name,
            ms,
            f": {details}" if details else "",
            exc_info=exc_info,
            extra={"grpc_method": method, "grpc_code": name, "duration_ms": ms},
        )

    def intercept_service(self, continuation: Callable[[Any], Any], handler_call_details: Any) -> Any:
        method = str(handler_call_details.method)
        handler = continuation(handler_call_details)
        if handler is None:
            self.report(method, "UNIMPLEMENTED", 0.0, "no handler serves this method", None)
            return None
        return self._wrap(method, handler)

    def _wrap(self, method: str, handler: Any) -> Any:
        if handler.request_streaming and handler.response_streaming:
            behavior, make = handler.stream_stream, grpc.stream_stream_rpc_method_handler
        elif handler.request_streaming:
            behavior, make = handler.stream_unary, grpc.stream_unary_rpc_method_handler
        elif handler.response_streaming:
            behavior, make = handler.unary_stream, grpc.unary_stream_rpc_method_handler
        else:
            behavior, make = handler.unary_unary, grpc.unary_unary_rpc_method_handler
        if getattr(behavior, "experimental_non_blocking", False):
            wrapped = self._non_blocking(method, behavior)
        elif handler.response_streaming:
            wrapped = self._streaming(method, behavior)
        else:
            wrapped = self._unary(method, behavior)
        for attribute in _BEHAVIOR_ATTRIBUTES:
            if hasattr(behavior, attribute):
                setattr(wrapped, attribute, getattr(behavior, attribute))
        return make(
            wrapped, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
        )

    def _unary(self, method: str, behavior: Callable[..., Any]) -> Callable[..., Any]:
        def unary(request: Any, context: Any) -> Any:
            call = _Call(self, method)
            try:
                response = behavior(request, context)
            except Exception as exc:
                call.failed(context, exc)
                raise
            call.returned(context)
            return response

        return unary

    def _streaming(self, method: str, behavior: Callable[..., Any]) -> Callable[..., Any]:
        def streaming(request: Any, context: Any) -> Iterator[Any]:
            call = _Call(self, method)
            context.add_callback(lambda: call.terminated(context))
            try:
                yield from behavior(request, context)
            except GeneratorExit:
                call.terminated(context)
                raise
            except Exception as exc:
                call.failed(context, exc)
                raise
            call.returned(context)

        return streaming

    def _non_blocking(self, method: str, behavior: Callable[..., Any]) -> Callable[..., Any]:
        """A behavior that streams through a callback (``send(None)`` ends the stream), like health's Watch."""

        def non_blocking(request: Any, context: Any, send_response_callback: Callable[[Any], None]) -> Any:
            call = _Call(self, method)
            context.add_callback(lambda: call.terminated(context))

            def send(response: Any) -> None:
                if response is None:
                    call.returned(context)
                send_response_callback(response)

            try:
                return behavior(request, context, send)
            except Exception as exc:
                call.failed(context, exc)
                raise

        return non_blocking
