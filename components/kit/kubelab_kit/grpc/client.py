"""Reach a gRPC server on a unix socket: a channel that is ready, or an error that says why not."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import grpc

from kubelab_kit.grpc.errors import GrpcError
from kubelab_kit.grpc.socket import socket_path, unix_target

# A local socket is cheap to retry: reconnect after 0.1 s at first (grpc's default is 1 s), at most every 1 s.
RECONNECT_OPTIONS = (("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 1000))


class ChannelNotReadyError(GrpcError):
    """Nothing accepted a connection on the socket in time."""


def connect(endpoint: str | os.PathLike[str], *, timeout: float = 5.0, options: Sequence[tuple[str, Any]] = ()) -> Any:
    """An insecure ``grpc.Channel`` to ``endpoint`` (a path or ``unix://`` endpoint), connected.

    Returns only once the channel is READY; after ``timeout`` seconds the channel is closed and
    :class:`ChannelNotReadyError` raised, its fix depending on whether the socket file exists.
    The caller closes the channel (``with connect(path) as channel: ...``). ``options`` are
    channel arguments; they override :data:`RECONNECT_OPTIONS`.
    """
    path = socket_path(endpoint)
    merged = dict(RECONNECT_OPTIONS) | dict(options)
    channel = grpc.insecure_channel(unix_target(path), options=list(merged.items()))
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
    except grpc.FutureTimeoutError:
        channel.close()
        if path.exists():
            fix = f"{path} exists but nothing accepts on it: is its server hung, or did it crash (a stale socket)?"
        else:
            fix = f"there is no socket at {path}: start the server, or check the path"
        raise ChannelNotReadyError(f"no gRPC server ready on {path} within {timeout:g}s", fix=fix) from None
    return channel


def print_call(
    endpoint: str | os.PathLike[str], stub_class: Any, method: str, request: Any, timeout: float = 10.0
) -> int:
    """Call ``method`` of a ``stub_class`` stub on ``endpoint`` as a plugin's peer would; print the answer
    as JSON (exit status 0) or the gRPC status it was refused with, ``CODE: details`` (1). What the
    plugins' ``call`` commands do."""
    import json

    from google.protobuf.json_format import MessageToDict

    with connect(endpoint, timeout=5.0) as channel:
        try:
            answer = getattr(stub_class(channel), method)(request, timeout=timeout)
        except grpc.RpcError as exc:
            print(f"{exc.code().name}: {exc.details()}")
            return 1
    print(json.dumps(MessageToDict(answer), indent=2, sort_keys=True))
    return 0
