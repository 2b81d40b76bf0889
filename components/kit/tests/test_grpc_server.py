"""The Server over a real unix socket: serving, health, socket ownership, and the SIGTERM path."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from kubelab_kit.grpc import GrpcError, RegistrationServicer, Server, SocketInUseError, connect
from kubelab_protos.gen.pluginregistration.v1 import api_pb2, api_pb2_grpc

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
REGISTRATION = "pluginregistration.Registration"
ECHO = "kubelab.test.Echo"


def check(channel: Any, service: str = "") -> Any:
    return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=2).status


def registration() -> RegistrationServicer:
    return RegistrationServicer(type="DRAPlugin", name="t.kubelab.dev", endpoint="/x/dra.sock", versions=["v1"])


def test_serves_generated_and_generic_services_with_health(tmp_path: Path, echo: Any) -> None:
    path = tmp_path / "s.sock"
    services = [(api_pb2_grpc.add_RegistrationServicer_to_server, registration())]
    with Server(f"unix://{path}", services, handlers=[echo]) as server, connect(path, timeout=2) as channel:
        assert server.serving
        assert server.service_names == (REGISTRATION, ECHO)
        info = api_pb2_grpc.RegistrationStub(channel).GetInfo(api_pb2.InfoRequest(), timeout=2)
        assert (info.type, info.name, info.endpoint) == ("DRAPlugin", "t.kubelab.dev", "/x/dra.sock")
        assert channel.unary_unary(f"/{ECHO}/Say")(b"kit", timeout=2) == b"hello kit"
        assert [check(channel, name) for name in ("", REGISTRATION, ECHO)] == [SERVING] * 3
        with pytest.raises(grpc.RpcError) as info_:
            check(channel, "no.such.Service")
        assert info_.value.code() == grpc.StatusCode.NOT_FOUND


def test_socket_has_its_mode_and_only_appears_when_serving(tmp_path: Path, echo: Any) -> None:
    path = tmp_path / "run" / "s.sock"
    server = Server(path, handlers=[echo], socket_mode=0o600, dir_mode=0o700)
    assert not path.exists()
    with server:
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
        assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert [p.name for p in path.parent.iterdir()] == ["s.sock"], "no staging directory left behind"
    assert not path.exists()
    assert list(path.parent.iterdir()) == []


def test_set_serving_false_reports_not_serving(tmp_path: Path, echo: Any) -> None:
    path = tmp_path / "s.sock"
    with Server(path, handlers=[echo]) as server, connect(path, timeout=2) as channel:
        server.set_serving(False)
        assert check(channel) == NOT_SERVING
        assert check(channel, ECHO) == NOT_SERVING
        server.set_serving(True, ECHO)
        assert check(channel, ECHO) == SERVING
        assert check(channel) == NOT_SERVING


def test_stop_reports_not_serving_to_watchers_then_removes_the_socket(tmp_path: Path, echo: Any) -> None:
    path = tmp_path / "s.sock"
    server = Server(path, handlers=[echo], grace=0.2).start()
    channel = connect(path, timeout=2)
    try:
        watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=ECHO), timeout=5)
        assert next(watch).status == SERVING
        stopper = threading.Thread(target=server.stop)
        stopper.start()
        assert next(watch).status == NOT_SERVING
        stopper.join(timeout=5)
        assert not stopper.is_alive()
        assert not path.exists()
        assert not server.serving
        assert server.wait(0)
    finally:
        channel.close()


def test_stop_is_idempotent_and_a_server_starts_once(tmp_path: Path, echo: Any) -> None:
    server = Server(tmp_path / "s.sock", handlers=[echo]).start()
    with pytest.raises(GrpcError, match="already started"):
        server.start()
    server.stop(0)
    server.stop(0)
    with pytest.raises(GrpcError, match="already started"):
        server.start()


def test_a_second_server_on_a_live_socket_is_refused(tmp_path: Path, echo: Any) -> None:
    path = tmp_path / "s.sock"
    with Server(path, handlers=[echo]), connect(path, timeout=2) as channel:
        second = Server(path, handlers=[echo])
        with pytest.raises(SocketInUseError, match=f"another server listens on {path}"):
            second.start()
        assert channel.unary_unary(f"/{ECHO}/Say")(b"first", timeout=2) == b"hello first"
        assert not second.serving


def padded(tmp_path: Path, name: str, size: int) -> Path:
    """A path of exactly ``size`` bytes ending in ``/<name>``, under ``tmp_path``."""
    pad = size - len(f"{tmp_path}/") - len(f"/{name}")
    assert pad > 0
    return tmp_path / ("p" * pad) / name


def test_the_longest_path_grpc_takes_is_served(tmp_path: Path, echo: Any) -> None:
    path = padded(tmp_path, "long-enough-name.sock", 105)
    with Server(path, handlers=[echo]), connect(path, timeout=2) as channel:
        assert channel.unary_unary(f"/{ECHO}/Say")(b"far", timeout=2) == b"hello far"


def test_a_path_too_long_to_stage_is_refused_and_leaves_nothing(tmp_path: Path, echo: Any) -> None:
    path = padded(tmp_path, "a.sock", 105)
    server = Server(path, handlers=[echo])
    with pytest.raises(GrpcError, match="binds first to"):
        server.start()
    assert list(path.parent.iterdir()) == []
    assert not server.serving


def test_a_stale_socket_is_replaced(tmp_path: Path, echo: Any) -> None:
    path = tmp_path / "s.sock"
    crashed = Server(path, handlers=[echo]).start()
    os.link(path, tmp_path / "keep")  # the crashed server's socket, kept under another name
    crashed.stop(0)
    os.link(tmp_path / "keep", path)  # back at the path, with nobody listening: a crash leaves this
    stale_inode = os.lstat(path).st_ino
    with Server(path, handlers=[echo]), connect(path, timeout=2) as channel:
        assert os.lstat(path).st_ino != stale_inode
        assert channel.unary_unary(f"/{ECHO}/Say")(b"again", timeout=2) == b"hello again"


def test_stop_leaves_a_socket_it_did_not_create(tmp_path: Path, echo: Any) -> None:
    path = tmp_path / "s.sock"
    server = Server(path, handlers=[echo]).start()
    path.unlink()
    with Server(path, handlers=[echo]) as newer:
        server.stop(0)
        assert path.exists(), "the newer server's socket survives the old server's stop"
        with connect(path, timeout=2) as channel:
            assert channel.unary_unary(f"/{ECHO}/Say")(b"newer", timeout=2) == b"hello newer"
        assert newer.serving
    assert not path.exists()


def test_serve_forever_returns_when_the_event_is_set(tmp_path: Path, echo: Any) -> None:
    path = tmp_path / "s.sock"
    server = Server(path, handlers=[echo], grace=0)
    stop = threading.Event()
    thread = threading.Thread(target=server.serve_forever, args=(stop,))
    thread.start()
    with connect(path, timeout=2) as channel:
        assert channel.unary_unary(f"/{ECHO}/Say")(b"x", timeout=2) == b"hello x"
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert not path.exists()


def test_calls_in_flight_finish_within_the_grace(tmp_path: Path, make_echo: Any) -> None:
    started = threading.Event()

    def slow(request: bytes, _context: Any) -> bytes:
        started.set()
        time.sleep(0.3)
        return b"done " + request

    path = tmp_path / "s.sock"
    server = Server(path, handlers=[make_echo(slow)], grace=3).start()
    with connect(path, timeout=2) as channel:
        future = channel.unary_unary(f"/{ECHO}/Say").future(b"late", timeout=5)
        assert started.wait(2)
        server.stop()
        assert future.result() == b"done late"


SIGTERM_SCRIPT = textwrap.dedent(
    """
    import sys
    import grpc
    from kubelab_kit.grpc import Server
    from kubelab_kit.logs import setup_logging

    say = grpc.unary_unary_rpc_method_handler(lambda request, _context: b"hello " + request)
    echo = grpc.method_handlers_generic_handler("kubelab.test.Echo", {"Say": say})
    setup_logging()
    Server(sys.argv[1], handlers=[echo], grace=1).run_until_signalled()
    print("returned", flush=True)
    """
)


def test_sigterm_stops_gracefully_removes_the_socket_and_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "d.sock"
    proc = subprocess.Popen(
        [sys.executable, "-c", SIGTERM_SCRIPT, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while not path.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert path.exists(), proc.stderr.read() if proc.poll() is not None else "socket never appeared"
        with connect(path, timeout=2) as channel:
            assert channel.unary_unary(f"/{ECHO}/Say")(b"daemon", timeout=2) == b"hello daemon"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out.strip() == "returned"
    assert "SIGTERM: stopping" in err
    assert not path.exists()
