"""Every call is logged and counted once, and raised status errors become statuses at the client.

One server and one channel serve the whole module (closing a channel costs grpc 0.2 s); each
test routes its own behaviors under its own service name, so its metrics are its own.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest

from kubelab_kit.grpc import (
    Aborted,
    AlreadyExists,
    CallMetrics,
    FailedPrecondition,
    GrpcStatusError,
    Internal,
    InvalidArgument,
    NotFound,
    OutOfRange,
    ResourceExhausted,
    Server,
    Unavailable,
    Unimplemented,
    abort,
    connect,
)
from kubelab_kit.grpc.calls import level_for

CALLS = "kubelab_kit.grpc.calls"
MAKERS = {
    "unary_unary": grpc.unary_unary_rpc_method_handler,
    "unary_stream": grpc.unary_stream_rpc_method_handler,
    "stream_unary": grpc.stream_unary_rpc_method_handler,
    "stream_stream": grpc.stream_stream_rpc_method_handler,
}


class Router(grpc.GenericRpcHandler):  # type: ignore[misc]
    """Method handlers looked up at call time, so tests can add theirs to a running server."""

    def __init__(self) -> None:
        self.routes: dict[str, Any] = {}

    def service(self, handler_call_details: Any) -> Any:
        return self.routes.get(handler_call_details.method)


@dataclass
class Bench:
    server: Server
    channel: Any
    router: Router
    service: str = ""

    def route(self, name: str, kind: str, behavior: Callable[..., Any]) -> Callable[..., Any]:
        """Serve ``behavior`` as ``/<this test's service>/<name>``; returns the client's callable for it."""
        method = f"/{self.service}/{name}"
        self.router.routes[method] = MAKERS[kind](behavior)
        return getattr(self.channel, kind)(method)

    def method(self, name: str) -> str:
        return f"/{self.service}/{name}"

    def count(self, name: str, code: Any = None) -> int:
        return self.server.metrics.count(self.method(name), code)

    def eventually_counted(self, name: str, total: int, timeout: float = 2.0) -> None:
        """Stream calls end on a server thread, possibly just after the client saw the end."""
        deadline = time.monotonic() + timeout
        while self.count(name) < total and time.monotonic() < deadline:
            time.sleep(0.01)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    router = Router()
    path = tmp_path_factory.mktemp("calls") / "c.sock"
    with Server(path, handlers=[router], grace=0) as server, connect(path, timeout=2) as channel:
        yield Bench(server, channel, router)


@pytest.fixture
def bench(shared: Bench, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture) -> Bench:
    caplog.set_level(logging.DEBUG, logger=CALLS)
    shared.service = "kubelab.test." + re.sub(r"\W", "_", request.node.name)
    return shared


def call_records(caplog: pytest.LogCaptureFixture, method: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == CALLS and getattr(r, "grpc_method", None) == method]


def hello(request: bytes, _context: Any) -> bytes:
    return b"hello " + request


def test_an_ok_call_is_logged_with_method_code_and_duration_and_counted(
    bench: Bench, caplog: pytest.LogCaptureFixture
) -> None:
    say = bench.route("Say", "unary_unary", hello)
    assert say(b"a", timeout=2) == b"hello a"
    assert say(b"b", timeout=2) == b"hello b"
    records = call_records(caplog, bench.method("Say"))
    assert len(records) == 2
    record: Any = records[0]
    assert record.levelno == logging.INFO
    assert record.grpc_code == "OK"
    assert 0 <= record.duration_ms < 2000
    assert record.getMessage() == f"{bench.method('Say')} OK {record.duration_ms:.2f}ms"
    assert bench.count("Say", "OK") == 2
    assert bench.count("Say", grpc.StatusCode.OK) == 2
    assert bench.count("Say", "NOT_FOUND") == 0
    assert 0 < bench.server.metrics.total_seconds(bench.method("Say")) < 4
    assert bench.server.metrics.snapshot()[(bench.method("Say"), "OK")].count == 2


def test_ok_level_is_configurable(tmp_path: Path, echo: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=CALLS)
    path = tmp_path / "s.sock"
    with Server(path, handlers=[echo], ok_level=logging.DEBUG), connect(path, timeout=2) as channel:
        channel.unary_unary("/kubelab.test.Echo/Say")(b"a", timeout=2)
        with pytest.raises(grpc.RpcError):
            channel.unary_unary("/kubelab.test.Echo/Nope")(b"a", timeout=2)
    levels = [(r.grpc_code, r.levelno) for r in caplog.records if r.name == CALLS]  # type: ignore[attr-defined]
    assert levels == [("OK", logging.DEBUG), ("UNIMPLEMENTED", logging.WARNING)]


ERRORS: list[tuple[type[GrpcStatusError], Any]] = [
    (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (Unimplemented, grpc.StatusCode.UNIMPLEMENTED),
    (Internal, grpc.StatusCode.INTERNAL),
    (ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (OutOfRange, grpc.StatusCode.OUT_OF_RANGE),
    (Aborted, grpc.StatusCode.ABORTED),
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
]


@pytest.mark.parametrize(("error", "code"), ERRORS, ids=[e.__name__ for e, _ in ERRORS])
def test_a_raised_status_error_is_that_status_at_the_client(
    bench: Bench, caplog: pytest.LogCaptureFixture, error: type[GrpcStatusError], code: Any
) -> None:
    def refuse(request: bytes, _context: Any) -> bytes:
        raise error(f"sandbox {request.decode()} says no")

    say = bench.route("Say", "unary_unary", refuse)
    with pytest.raises(grpc.RpcError) as info:
        say(b"s1", timeout=2)
    assert info.value.code() == code
    assert info.value.details() == "sandbox s1 says no"
    assert bench.count("Say", code) == 1
    (record,) = call_records(caplog, bench.method("Say"))
    assert record.getMessage().startswith(f"{bench.method('Say')} {code.name} ")
    assert record.getMessage().endswith(": sandbox s1 says no")
    assert record.exc_info is None, "a deliberate status carries no traceback"
    assert record.levelno == level_for(code)


def test_status_error_details_carry_the_fix_and_its_rendering_the_code() -> None:
    error = NotFound("container c1 not found", fix="list containers with crictl ps -a")
    assert error.details == "container c1 not found (fix: list containers with crictl ps -a)"
    assert str(error).splitlines()[0] == "grpc: NOT_FOUND: container c1 not found"
    assert GrpcStatusError("disk gone", code=grpc.StatusCode.DATA_LOSS).code == grpc.StatusCode.DATA_LOSS
    with pytest.raises(ValueError, match="OK"):
        GrpcStatusError("fine", code=grpc.StatusCode.OK)


def test_an_unexpected_exception_is_unknown_and_logged_with_its_traceback(
    bench: Bench, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    def crash(_request: bytes, _context: Any) -> bytes:
        raise KeyError("sandbox-7")

    say = bench.route("Say", "unary_unary", crash)
    with pytest.raises(grpc.RpcError) as info:
        say(b"x", timeout=2)
    assert info.value.code() == grpc.StatusCode.UNKNOWN
    assert info.value.details() == "KeyError: 'sandbox-7'"
    (record,) = call_records(caplog, bench.method("Say"))
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None and record.exc_info[0] is KeyError
    assert 'raise KeyError("sandbox-7")' in caplog.text
    assert bench.count("Say", "UNKNOWN") == 1
    assert not [r for r in caplog.records if r.name.startswith("grpc")], "grpc itself logs nothing more"


def test_abort_and_set_code_are_kept(bench: Bench) -> None:
    def say(request: bytes, context: Any) -> bytes:
        if request == b"abort":
            abort(context, grpc.StatusCode.NOT_FOUND, "container %s not found", "c9")
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details("Method not implemented!")
        raise NotImplementedError("Method not implemented!")  # what a generated servicer's default does

    call = bench.route("Say", "unary_unary", say)
    with pytest.raises(grpc.RpcError) as info:
        call(b"abort", timeout=2)
    assert (info.value.code(), info.value.details()) == (grpc.StatusCode.NOT_FOUND, "container c9 not found")
    with pytest.raises(grpc.RpcError) as info:
        call(b"default", timeout=2)
    assert (info.value.code(), info.value.details()) == (grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")
    assert bench.count("Say", "NOT_FOUND") == 1
    assert bench.count("Say", "UNIMPLEMENTED") == 1
    assert bench.count("Say") == 2


def test_a_set_code_without_raising_is_the_status(bench: Bench) -> None:
    def say(_request: bytes, context: Any) -> bytes:
        context.set_code(grpc.StatusCode.FAILED_PRECONDITION)
        context.set_details("not ready")
        return b""

    call = bench.route("Say", "unary_unary", say)
    with pytest.raises(grpc.RpcError) as info:
        call(b"x", timeout=2)
    assert (info.value.code(), info.value.details()) == (grpc.StatusCode.FAILED_PRECONDITION, "not ready")
    assert bench.count("Say", "FAILED_PRECONDITION") == 1


def test_a_stream_is_logged_once_when_it_ends(bench: Bench, caplog: pytest.LogCaptureFixture) -> None:
    logged_early: list[int] = []

    def stream(request: bytes, _context: Any) -> Iterator[bytes]:
        for i in range(3):
            logged_early.append(len(call_records(caplog, bench.method("Stream"))))
            yield request + str(i).encode()

    call = bench.route("Stream", "unary_stream", stream)
    assert list(call(b"n", timeout=2)) == [b"n0", b"n1", b"n2"]
    bench.eventually_counted("Stream", 1)
    assert logged_early == [0, 0, 0], "nothing is logged before the stream ends"
    (record,) = call_records(caplog, bench.method("Stream"))
    assert record.getMessage().startswith(f"{bench.method('Stream')} OK ")
    assert bench.count("Stream", "OK") == 1


def test_a_status_error_mid_stream_ends_it_with_that_status(bench: Bench) -> None:
    def stream(_request: bytes, _context: Any) -> Iterator[bytes]:
        yield b"first"
        raise Unavailable("device unplugged")

    responses = bench.route("Stream", "unary_stream", stream)(b"", timeout=2)
    assert next(responses) == b"first"
    with pytest.raises(grpc.RpcError) as info:
        next(responses)
    assert (info.value.code(), info.value.details()) == (grpc.StatusCode.UNAVAILABLE, "device unplugged")
    bench.eventually_counted("Stream", 1)
    assert bench.count("Stream", "UNAVAILABLE") == 1


def test_a_stream_the_client_cancels_is_counted_cancelled(bench: Bench) -> None:
    cancelled = threading.Event()

    def stream(_request: bytes, context: Any) -> Iterator[bytes]:
        context.add_callback(cancelled.set)
        while not cancelled.is_set():
            yield b"tick"
            cancelled.wait(0.01)

    responses = bench.route("Stream", "unary_stream", stream)(b"", timeout=5)
    assert next(responses) == b"tick"
    responses.cancel()
    assert cancelled.wait(2)
    bench.eventually_counted("Stream", 1)
    assert bench.count("Stream", "CANCELLED") == 1
    assert bench.count("Stream") == 1


def test_client_streaming_and_bidi_calls_are_logged(bench: Bench) -> None:
    def collect(requests: Iterator[bytes], _context: Any) -> bytes:
        return b"+".join(requests)

    def chat(requests: Iterator[bytes], _context: Any) -> Iterator[bytes]:
        for request in requests:
            if request == b"bad":
                raise InvalidArgument("bad message")
            yield request.upper()

    collect_call = bench.route("Collect", "stream_unary", collect)
    chat_call = bench.route("Chat", "stream_stream", chat)
    assert collect_call(iter([b"a", b"b"]), timeout=2) == b"a+b"
    assert list(chat_call(iter([b"x", b"y"]), timeout=2)) == [b"X", b"Y"]
    with pytest.raises(grpc.RpcError) as info:
        list(chat_call(iter([b"x", b"bad"]), timeout=2))
    assert (info.value.code(), info.value.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "bad message")
    bench.eventually_counted("Chat", 2)
    assert bench.count("Collect", "OK") == 1
    assert bench.count("Chat", "OK") == 1
    assert bench.count("Chat", "INVALID_ARGUMENT") == 1


def test_an_unknown_method_is_logged_and_counted_unimplemented(bench: Bench, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(grpc.RpcError) as info:
        bench.channel.unary_unary(bench.method("Nope"))(b"", timeout=2)
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert bench.count("Nope", "UNIMPLEMENTED") == 1
    (record,) = call_records(caplog, bench.method("Nope"))
    assert record.levelno == logging.WARNING


def test_metrics_are_thread_safe_and_filterable() -> None:
    metrics = CallMetrics()

    def hammer() -> None:
        for _ in range(1000):
            metrics.record("/a/B", "OK", 0.001)
            metrics.record("/a/C", grpc.StatusCode.NOT_FOUND, 0.002)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert metrics.count() == 8000
    assert metrics.count("/a/B") == 4000
    assert metrics.count(code="NOT_FOUND") == 4000
    assert metrics.total_seconds("/a/C") == pytest.approx(8.0)
    assert metrics.snapshot()[("/a/B", "OK")].mean_ms == pytest.approx(1.0)
    metrics.reset()
    assert metrics.count() == 0


def test_log_levels_follow_the_code() -> None:
    assert level_for("OK") == logging.INFO
    assert level_for("OK", logging.DEBUG) == logging.DEBUG
    assert level_for(grpc.StatusCode.NOT_FOUND) == logging.INFO
    assert level_for("FAILED_PRECONDITION") == logging.WARNING
    assert level_for("INTERNAL") == logging.ERROR
