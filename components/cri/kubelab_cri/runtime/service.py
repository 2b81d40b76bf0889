"""The ``runtime.v1.RuntimeService`` servicer: the methods this runtime has so far.

Every other method answers UNIMPLEMENTED naming the method and that this runtime does not
have it yet (the generated base class's answer would only say "Method not implemented!").
"""

from __future__ import annotations

from typing import Any

import grpc

from kubelab_cri.runtime.info import RuntimeInfo
from kubelab_cri.runtime.sandboxes import Sandboxes
from kubelab_kit.grpc import Unimplemented
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
)


def _unimplemented(name: str) -> Any:
    def method(self: object, request: object, context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{SERVICE}/{name}: not implemented by kubelab-cri yet")

    method.__name__ = name
    return method


class RuntimeService(api_pb2_grpc.RuntimeServiceServicer):  # type: ignore[misc,unused-ignore]  # Any until protos are generated
    def __init__(self, info: RuntimeInfo, sandboxes: Sandboxes | None = None) -> None:
        self.info = info
        self.sandboxes = sandboxes

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
        self._sandboxes().stop(request.pod_sandbox_id)
        return api_pb2.StopPodSandboxResponse()

    def RemovePodSandbox(
        self, request: api_pb2.RemovePodSandboxRequest, context: grpc.ServicerContext
    ) -> api_pb2.RemovePodSandboxResponse:
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


for _name in dir(api_pb2_grpc.RuntimeServiceServicer):
    if _name[:1].isupper() and _name not in HAVE:
        setattr(RuntimeService, _name, _unimplemented(_name))
