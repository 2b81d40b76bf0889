"""The ``runtime.v1.RuntimeService`` servicer: the methods this runtime has so far.

Every other method answers UNIMPLEMENTED naming the method and that this runtime does not
have it yet (the generated base class's answer would only say "Method not implemented!").
"""

from __future__ import annotations

from typing import Any

import grpc

from kubelab_cri.runtime.info import RuntimeInfo
from kubelab_protos.gen.cri.v1 import api_pb2, api_pb2_grpc

SERVICE = "runtime.v1.RuntimeService"
HAVE = ("Version", "Status", "RuntimeConfig")


def _unimplemented(name: str) -> Any:
    def method(self: object, request: object, context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{SERVICE}/{name}: not implemented by kubelab-cri yet")

    method.__name__ = name
    return method


class RuntimeService(api_pb2_grpc.RuntimeServiceServicer):
    def __init__(self, info: RuntimeInfo) -> None:
        self.info = info

    def Version(self, request: api_pb2.VersionRequest, context: grpc.ServicerContext) -> api_pb2.VersionResponse:
        return self.info.version()

    def Status(self, request: api_pb2.StatusRequest, context: grpc.ServicerContext) -> api_pb2.StatusResponse:
        return self.info.status(verbose=request.verbose)

    def RuntimeConfig(
        self, request: api_pb2.RuntimeConfigRequest, context: grpc.ServicerContext
    ) -> api_pb2.RuntimeConfigResponse:
        return self.info.runtime_config()


for _name in dir(api_pb2_grpc.RuntimeServiceServicer):
    if _name[:1].isupper() and _name not in HAVE:
        setattr(RuntimeService, _name, _unimplemented(_name))
