"""connect(): a ready channel, or an error that says whether the socket exists."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest

from kubelab_kit.grpc import ChannelNotReadyError, Server, connect


def test_connect_returns_a_ready_channel(tmp_path: Path, echo: Any) -> None:
    with Server(tmp_path / "s.sock", handlers=[echo]) as server, connect(server.target, timeout=2) as channel:
        assert channel.unary_unary("/kubelab.test.Echo/Say")(b"x", timeout=2) == b"hello x"


def test_connect_to_a_missing_socket_times_out_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "none.sock"
    started = time.monotonic()
    with pytest.raises(ChannelNotReadyError) as info:
        connect(path, timeout=0.2)
    assert time.monotonic() - started < 2
    text = str(info.value)
    assert text.startswith(f"grpc: no gRPC server ready on {path} within 0.2s")
    assert f"fix: there is no socket at {path}" in text


def test_connect_to_a_stale_socket_says_so(tmp_path: Path) -> None:
    path = tmp_path / "stale.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))
    with pytest.raises(ChannelNotReadyError, match="exists but nothing accepts on it"):
        connect(f"unix://{path}", timeout=0.2)
