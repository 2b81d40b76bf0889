"""What the streaming server runs for each kind of request, on this runtime's containers and
sandboxes: exec (runc exec, :mod:`~kubelab_cri.streaming.exec_io`), attach (the container
monitor's attach socket, :mod:`~kubelab_cri.streaming.attach`) and port forwarding (a TCP
connection opened inside the pod's network namespace, :mod:`~kubelab_cri.streaming.portforward`).
"""

from __future__ import annotations

from collections.abc import Callable

from kubelab_cri.runtime.containers import Containers
from kubelab_cri.runtime.sandboxes import Sandboxes
from kubelab_cri.streaming import attach, exec_io, portforward
from kubelab_cri.streaming.remotecommand import Channels, Wanted, status
from kubelab_cri.streaming.server import StreamingServer
from kubelab_cri.streaming.spdy import Stream
from kubelab_protos.gen.cri.v1 import api_pb2

NO_STREAMS = "timed out waiting for the client to open its streams"


def exec_handler(containers: Containers) -> Callable[[api_pb2.ExecRequest, str, Channels], bytes]:
    def handle(request: api_pb2.ExecRequest, protocol: str, channels: Channels) -> bytes:
        wanted = Wanted(request.stdin, request.stdout, request.stderr, request.tty)
        if not channels.wait_for(wanted.stream_types(protocol)):
            return status(protocol, None, error=NO_STREAMS)
        resizes = exec_io.Resizes(channels.get("resize") if request.tty else None)
        size = resizes.first() if request.tty else None
        argv, process_file = containers.stream_exec(request.container_id, list(request.cmd), request.tty, size)
        try:
            code = exec_io.run(argv, wanted, channels, resizes, size)
        finally:
            process_file.unlink(missing_ok=True)
        return status(protocol, code, command=list(request.cmd))

    return handle


def attach_handler(containers: Containers) -> Callable[[api_pb2.AttachRequest, str, Channels], bytes]:
    def handle(request: api_pb2.AttachRequest, protocol: str, channels: Channels) -> bytes:
        wanted = Wanted(request.stdin, request.stdout, request.stderr, request.tty)
        if not channels.wait_for(wanted.stream_types(protocol)):
            return status(protocol, None, error=NO_STREAMS)
        attach.run(containers.attach_socket(request.container_id), wanted, channels)
        return status(protocol, 0)

    return handle


def forwarder(sandboxes: Sandboxes) -> Callable[[api_pb2.PortForwardRequest], Callable[[Stream], None]]:
    def start(request: api_pb2.PortForwardRequest) -> Callable[[Stream], None]:
        sandbox = sandboxes.get(request.pod_sandbox_id)
        return portforward.Forwarder(sandbox.netns_path).add

    return start


def streaming_server(containers: Containers, sandboxes: Sandboxes, port: int = 0) -> StreamingServer:
    return StreamingServer(exec_handler(containers), attach_handler(containers), forwarder(sandboxes), port=port)
