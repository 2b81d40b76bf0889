"""Serving gRPC on a unix socket, the kubelet's way: the scaffold of the CRI, CSI, device and DRA plugins.

A :class:`Server` claims a unix socket (a live one is refused, a stale one removed, a regular
file never touched), serves generated servicers and the standard health service on a thread
pool, logs and counts every call (:class:`CallInterceptor`, :class:`CallMetrics`), turns a
raised :class:`GrpcStatusError` (:class:`NotFound`, :class:`InvalidArgument`, ...) into that
status, and on SIGTERM reports NOT_SERVING, removes its socket, drains calls and returns.
:class:`PluginRegistrar` announces a CSI or DRA plugin to the kubelet's plugin watcher;
:func:`connect` opens a ready channel to a socket. Usage::

    from kubelab_kit.grpc import NotFound, PluginRegistrar, Server
    from kubelab_protos.gen.dra.v1 import api_pb2_grpc as dra

    class Driver(dra.DRAPluginServicer):
        def NodePrepareResources(self, request, context):
            raise NotFound(f"claim {request.claims[0].uid} not found")  # the kubelet sees NOT_FOUND

    endpoint = "/var/lib/kubelet/plugins/gpu.kubelab.dev/dra.sock"
    with Server(endpoint, [(dra.add_DRAPluginServicer_to_server, Driver())]):
        registrar = PluginRegistrar(type="DRAPlugin", name="gpu.kubelab.dev", endpoint=endpoint,
                                    versions=["v1.DRAPlugin"])
        registrar.server.run_until_signalled()  # SIGTERM: deregister, then the driver's server stops
"""

from kubelab_kit.grpc.calls import CallInterceptor, CallMetrics, CallStats
from kubelab_kit.grpc.client import ChannelNotReadyError, connect, print_call
from kubelab_kit.grpc.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    GrpcError,
    GrpcStatusError,
    Internal,
    InvalidArgument,
    NotFound,
    OutOfRange,
    ResourceExhausted,
    Unavailable,
    Unimplemented,
    abort,
)
from kubelab_kit.grpc.registration import (
    CSI_PLUGIN,
    DEVICE_PLUGIN,
    DRA_PLUGIN,
    REGISTRY_DIR,
    PluginRegistrar,
    RegistrationServicer,
    RegistrationStatus,
    RegistrationTimeoutError,
)
from kubelab_kit.grpc.server import AddServicer, Server
from kubelab_kit.grpc.socket import NotASocketError, SocketInUseError, answers, claim, socket_path, unix_target

__all__ = [
    "CSI_PLUGIN",
    "DEVICE_PLUGIN",
    "DRA_PLUGIN",
    "REGISTRY_DIR",
    "Aborted",
    "AddServicer",
    "AlreadyExists",
    "CallInterceptor",
    "CallMetrics",
    "CallStats",
    "ChannelNotReadyError",
    "FailedPrecondition",
    "GrpcError",
    "GrpcStatusError",
    "Internal",
    "InvalidArgument",
    "NotASocketError",
    "NotFound",
    "OutOfRange",
    "PluginRegistrar",
    "RegistrationServicer",
    "RegistrationStatus",
    "RegistrationTimeoutError",
    "ResourceExhausted",
    "Server",
    "SocketInUseError",
    "Unavailable",
    "Unimplemented",
    "abort",
    "answers",
    "claim",
    "connect",
    "print_call",
    "socket_path",
    "unix_target",
]
