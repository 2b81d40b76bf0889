"""The ``runtime.v1.RuntimeService`` servicer: the methods this runtime has so far.

Every other method answers UNIMPLEMENTED naming the method and that this runtime does not
have it yet (the generated base class's answer would only say "Method not implemented!").
"""

from __future__ import annotations

from typing import Any

import grpc

from kubelab_cri.runtime.containers import Containers
from kubelab_cri.runtime.info import RuntimeInfo
from kubelab_cri.runtime.sandboxes import Sandboxes
from kubelab_cri.streaming.server import StreamingServer
from kubelab_kit.grpc import InvalidArgument, Unimplemented
from kubelab_protos.gen.cri.v1 import api_pb2, api_pb2_grpc

SERVICE = "runtime.v1.RuntimeService"
HAVE = (
    "Version",
    "Status",
    "RuntimeConfig",
    "RunPodSandbox",
    "StopPodSandbox",
    "RemovePodSandbox",
    "PodSandboxStatus",
    "ListPodSandbox",
    "CreateContainer",
    "StartContainer",
    "StopContainer",
    "RemoveContainer",
    "ListContainers",
    "ContainerStatus",
    "ExecSync",
    "ReopenContainerLog",
    "UpdateContainerResources",
    "UpdateRuntimeConfig",
    "Exec",
    "Attach",
    "PortForward",
    "ContainerStats",
    "ListContainerStats",
)


def _unimplemented(name: str) -> Any:
    def method(self: object, request: object, context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{SERVICE}/{name}: not implemented by kubelab-cri yet")

    method.__name__ = name
    return method


class RuntimeService(api_pb2_grpc.RuntimeServiceServicer):  # type: ignore[misc,unused-ignore]  # Any until protos are generated
    def __init__(
        self,
        info: RuntimeInfo,
        sandboxes: Sandboxes | None = None,
        containers: Containers | None = None,
        streaming: StreamingServer | None = None,
    ) -> None:
        self.info = info
        self.sandboxes = sandboxes
        self.containers = containers
        self.streaming = streaming

    def Version(self, request: api_pb2.VersionRequest, context: grpc.ServicerContext) -> api_pb2.VersionResponse:
        return self.info.version()

    def Status(self, request: api_pb2.StatusRequest, context: grpc.ServicerContext) -> api_pb2.StatusResponse:
        return self.info.status(verbose=request.verbose)

    def RuntimeConfig(
        self, request: api_pb2.RuntimeConfigRequest, context: grpc.ServicerContext
    ) -> api_pb2.RuntimeConfigResponse:
        return self.info.runtime_config()

    # -- sandboxes -----------------------------------------------------------------------------
    def _sandboxes(self) -> Sandboxes:
        if self.sandboxes is None:
            raise Unimplemented(f"{SERVICE}: this server runs without sandboxes")
        return self.sandboxes

    def RunPodSandbox(
        self, request: api_pb2.RunPodSandboxRequest, context: grpc.ServicerContext
    ) -> api_pb2.RunPodSandboxResponse:
        sandbox = self._sandboxes().run(request.config, request.runtime_handler)
        return api_pb2.RunPodSandboxResponse(pod_sandbox_id=sandbox.id)

    def StopPodSandbox(
        self, request: api_pb2.StopPodSandboxRequest, context: grpc.ServicerContext
    ) -> api_pb2.StopPodSandboxResponse:
        sandboxes = self._sandboxes()
        if self.containers is not None:  # no pause container to kill: stopping the pod stops its containers
            for c in self.containers.of_sandbox(request.pod_sandbox_id):
                self.containers.stop(c.id, 0)
        sandboxes.stop(request.pod_sandbox_id)
        return api_pb2.StopPodSandboxResponse()

    def RemovePodSandbox(
        self, request: api_pb2.RemovePodSandboxRequest, context: grpc.ServicerContext
    ) -> api_pb2.RemovePodSandboxResponse:
        if self.containers is not None:
            for c in self.containers.of_sandbox(request.pod_sandbox_id):
                self.containers.remove(c.id)
        self._sandboxes().remove(request.pod_sandbox_id)
        return api_pb2.RemovePodSandboxResponse()

    def PodSandboxStatus(
        self, request: api_pb2.PodSandboxStatusRequest, context: grpc.ServicerContext
    ) -> api_pb2.PodSandboxStatusResponse:
        return api_pb2.PodSandboxStatusResponse(status=self._sandboxes().status(request.pod_sandbox_id))

    def ListPodSandbox(
        self, request: api_pb2.ListPodSandboxRequest, context: grpc.ServicerContext
    ) -> api_pb2.ListPodSandboxResponse:
        wanted = request.filter if request.HasField("filter") else None
        return api_pb2.ListPodSandboxResponse(items=self._sandboxes().list(wanted))

    # -- containers ----------------------------------------------------------------------------
    def _containers(self) -> Containers:
        if self.containers is None:
            raise Unimplemented(f"{SERVICE}: this server runs without containers")
        return self.containers

    def CreateContainer(
        self, request: api_pb2.CreateContainerRequest, context: grpc.ServicerContext
    ) -> api_pb2.CreateContainerResponse:
        sandbox_config = request.sandbox_config if request.HasField("sandbox_config") else None
        c = self._containers().create(request.pod_sandbox_id, request.config, sandbox_config)
        return api_pb2.CreateContainerResponse(container_id=c.id)

    def StartContainer(
        self, request: api_pb2.StartContainerRequest, context: grpc.ServicerContext
    ) -> api_pb2.StartContainerResponse:
        self._containers().start(request.container_id)
        return api_pb2.StartContainerResponse()

    def StopContainer(
        self, request: api_pb2.StopContainerRequest, context: grpc.ServicerContext
    ) -> api_pb2.StopContainerResponse:
        self._containers().stop(request.container_id, int(request.timeout))
        return api_pb2.StopContainerResponse()

    def RemoveContainer(
        self, request: api_pb2.RemoveContainerRequest, context: grpc.ServicerContext
    ) -> api_pb2.RemoveContainerResponse:
        self._containers().remove(request.container_id)
        return api_pb2.RemoveContainerResponse()

    def ListContainers(
        self, request: api_pb2.ListContainersRequest, context: grpc.ServicerContext
    ) -> api_pb2.ListContainersResponse:
        wanted = request.filter if request.HasField("filter") else None
        return api_pb2.ListContainersResponse(containers=self._containers().list(wanted))

    def ContainerStatus(
        self, request: api_pb2.ContainerStatusRequest, context: grpc.ServicerContext
    ) -> api_pb2.ContainerStatusResponse:
        return api_pb2.ContainerStatusResponse(status=self._containers().status(request.container_id))

    def ExecSync(self, request: api_pb2.ExecSyncRequest, context: grpc.ServicerContext) -> api_pb2.ExecSyncResponse:
        return self._containers().exec_sync(request.container_id, list(request.cmd), int(request.timeout))

    def ReopenContainerLog(
        self, request: api_pb2.ReopenContainerLogRequest, context: grpc.ServicerContext
    ) -> api_pb2.ReopenContainerLogResponse:
        self._containers().reopen_log(request.container_id)
        return api_pb2.ReopenContainerLogResponse()

    def UpdateContainerResources(
        self, request: api_pb2.UpdateContainerResourcesRequest, context: grpc.ServicerContext
    ) -> api_pb2.UpdateContainerResourcesResponse:
        self._containers().update_resources(request.container_id, request.linux)
        return api_pb2.UpdateContainerResourcesResponse()

    def UpdateRuntimeConfig(
        self, request: api_pb2.UpdateRuntimeConfigRequest, context: grpc.ServicerContext
    ) -> api_pb2.UpdateRuntimeConfigResponse:
        # The kubelet sends the node's pod CIDR; the node's CNI configuration already has it.
        return api_pb2.UpdateRuntimeConfigResponse()

    def ContainerStats(
        self, request: api_pb2.ContainerStatsRequest, context: grpc.ServicerContext
    ) -> api_pb2.ContainerStatsResponse:
        return api_pb2.ContainerStatsResponse(stats=self._containers().stats(request.container_id))

    def ListContainerStats(
        self, request: api_pb2.ListContainerStatsRequest, context: grpc.ServicerContext
    ) -> api_pb2.ListContainerStatsResponse:
        wanted = request.filter if request.HasField("filter") else None
        return api_pb2.ListContainerStatsResponse(stats=self._containers().list_stats(wanted))

    # -- streaming -----------------------------------------------------------------------------
    def _streaming(self) -> StreamingServer:
        if self.streaming is None:
            raise Unimplemented(f"{SERVICE}: this server runs without a streaming server")
        return self.streaming

    def Exec(self, request: api_pb2.ExecRequest, context: grpc.ServicerContext) -> api_pb2.ExecResponse:
        if not request.cmd:
            raise InvalidArgument("Exec: cmd must not be empty")
        check_stdio("Exec", request.stdin, request.stdout, request.stderr, request.tty)
        self._containers().stream_exec_allowed(request.container_id)
        return api_pb2.ExecResponse(url=self._streaming().url_for("exec", request))

    def Attach(self, request: api_pb2.AttachRequest, context: grpc.ServicerContext) -> api_pb2.AttachResponse:
        check_stdio("Attach", request.stdin, request.stdout, request.stderr, request.tty)
        self._containers().attach_socket(request.container_id)
        return api_pb2.AttachResponse(url=self._streaming().url_for("attach", request))

    def PortForward(
        self, request: api_pb2.PortForwardRequest, context: grpc.ServicerContext
    ) -> api_pb2.PortForwardResponse:
        self._sandboxes().get(request.pod_sandbox_id)
        return api_pb2.PortForwardResponse(url=self._streaming().url_for("portforward", request))


def check_stdio(call: str, stdin: bool, stdout: bool, stderr: bool, tty: bool) -> None:
    if not (stdin or stdout or stderr):
        raise InvalidArgument(f"{call}: one of stdin, stdout and stderr must be requested")
    if tty and stderr:
        raise InvalidArgument(f"{call}: a TTY has no separate stderr (tty and stderr cannot both be set)")


for _name in dir(api_pb2_grpc.RuntimeServiceServicer):
    if _name[:1].isupper() and _name not in HAVE:
        setattr(RuntimeService, _name, _unimplemented(_name))
