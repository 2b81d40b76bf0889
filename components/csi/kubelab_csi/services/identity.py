"""The Identity service: who the driver is, what it offers, whether it is ready (book 6.2)."""

from __future__ import annotations

from typing import Any

from google.protobuf import wrappers_pb2

from kubelab_csi.config import DriverConfig
from kubelab_protos.gen.csi.v1 import csi_pb2, csi_pb2_grpc

Service = csi_pb2.PluginCapability.Service
Expansion = csi_pb2.PluginCapability.VolumeExpansion


class Identity(csi_pb2_grpc.IdentityServicer):  # type: ignore[misc,unused-ignore]  # Any until protos are generated
    def __init__(self, config: DriverConfig, ready: Any = None) -> None:
        self.config = config
        self.ready = ready  # a callable: is the pool usable?

    def GetPluginInfo(self, request: Any, context: Any) -> Any:
        return csi_pb2.GetPluginInfoResponse(name=self.config.name, vendor_version=self.config.version)

    def GetPluginCapabilities(self, request: Any, context: Any) -> Any:
        caps = [
            csi_pb2.PluginCapability(service=Service(type=Service.CONTROLLER_SERVICE)),
            csi_pb2.PluginCapability(service=Service(type=Service.VOLUME_ACCESSIBILITY_CONSTRAINTS)),
            csi_pb2.PluginCapability(volume_expansion=Expansion(type=Expansion.ONLINE)),
        ]
        return csi_pb2.GetPluginCapabilitiesResponse(capabilities=caps)

    def Probe(self, request: Any, context: Any) -> Any:
        ready = True if self.ready is None else bool(self.ready())
        return csi_pb2.ProbeResponse(ready=wrappers_pb2.BoolValue(value=ready))
