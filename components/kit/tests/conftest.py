"""Fixtures of the gRPC scaffold's tests: ``kubelab.test.Echo``, a tiny bytes-in, bytes-out service
built from generic handlers (no generated code), so tests can give it any behavior."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

import grpc
import pytest

ECHO = "kubelab.test.Echo"


class MakeEcho(Protocol):
    def __call__(
        self,
        say: Callable[[bytes, Any], bytes] | None = None,
        *,
        stream: Callable[[bytes, Any], Iterator[bytes]] | None = None,
        collect: Callable[[Iterator[bytes], Any], bytes] | None = None,
        chat: Callable[[Iterator[bytes], Any], Iterator[bytes]] | None = None,
    ) -> Any: ...


def _hello(request: bytes, _context: Any) -> bytes:
    return b"hello " + request


def _make_echo(
    say: Callable[[bytes, Any], bytes] | None = None,
    *,
    stream: Callable[[bytes, Any], Iterator[bytes]] | None = None,
    collect: Callable[[Iterator[bytes], Any], bytes] | None = None,
    chat: Callable[[Iterator[bytes], Any], Iterator[bytes]] | None = None,
) -> Any:
    """Say (unary; default: ``b"hello " + request``), and optionally Stream, Collect and Chat."""
    methods = {"Say": grpc.unary_unary_rpc_method_handler(say or _hello)}
    if stream is not None:
        methods["Stream"] = grpc.unary_stream_rpc_method_handler(stream)
    if collect is not None:
        methods["Collect"] = grpc.stream_unary_rpc_method_handler(collect)
    if chat is not None:
        methods["Chat"] = grpc.stream_stream_rpc_method_handler(chat)
    return grpc.method_handlers_generic_handler(ECHO, methods)


@pytest.fixture
def make_echo() -> MakeEcho:
    """Build a ``kubelab.test.Echo`` generic handler with the given behaviors."""
    return _make_echo


@pytest.fixture
def echo() -> Any:
    """``kubelab.test.Echo`` whose Say answers ``b"hello " + request``."""
    return _make_echo()
