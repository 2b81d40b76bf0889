"""Registering with the kubelet's device manager, and noticing that the kubelet restarted.

A device plugin registers the other way round from CSI and DRA plugins: it calls
``v1beta1.Registration/Register`` on the kubelet's socket (``kubelet.sock`` in the
device-plugins folder) with its own socket's file name and resource name, and the kubelet then
dials that socket. A restarting kubelet empties the folder (the plugin's socket goes with it)
and makes a new ``kubelet.sock``: the plugin must serve again and register again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import grpc

from kubelab_kit.grpc import GrpcError, connect
from kubelab_protos.gen.deviceplugin.v1beta1 import api_pb2, api_pb2_grpc

DEVICE_PLUGINS_DIR = Path("/var/lib/kubelet/device-plugins")
KUBELET_SOCKET = "kubelet.sock"
API_VERSION = "v1beta1"


class RegistrationRefusedError(GrpcError):
    """The kubelet answered Register with an error."""


def identity(path: Path) -> tuple[int, int] | None:
    """What tells one kubelet socket from the next: its inode and change time; None when absent."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_ctime_ns


def register(kubelet_socket: Path, endpoint: str, resource: str, options: Any, timeout: float = 5.0) -> None:
    """Register ``resource`` served on ``endpoint`` (a file name in the kubelet socket's folder)."""
    request = api_pb2.RegisterRequest(version=API_VERSION, endpoint=endpoint, resource_name=resource, options=options)
    with connect(kubelet_socket, timeout=timeout) as channel:
        stub = api_pb2_grpc.RegistrationStub(channel)  # type: ignore[no-untyped-call,unused-ignore]
        try:
            stub.Register(request, timeout=timeout)
        except grpc.RpcError as exc:
            raise RegistrationRefusedError(
                f"the kubelet refused {resource} on {endpoint}: {exc.code().name}: {exc.details()}",
                fix="the kubelet's log says why (`journalctl -u kubelet | grep -i 'device plugin'`)",
            ) from None
