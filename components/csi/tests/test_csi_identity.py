"""Identity: the name, the capabilities a CO plans with, readiness."""

from __future__ import annotations

from csi_testkit import Csi

from kubelab_csi.config import DRIVER_NAME
from kubelab_protos.gen.csi.v1 import csi_pb2


def test_plugin_info_and_capabilities(csi: Csi) -> None:
    info = csi.identity.GetPluginInfo(csi_pb2.GetPluginInfoRequest())
    assert info.name == DRIVER_NAME and info.vendor_version
    caps = csi.identity.GetPluginCapabilities(csi_pb2.GetPluginCapabilitiesRequest()).capabilities
    services = {c.service.type for c in caps if c.HasField("service")}
    Service = csi_pb2.PluginCapability.Service
    assert services == {Service.CONTROLLER_SERVICE, Service.VOLUME_ACCESSIBILITY_CONSTRAINTS}
    expansion = [c.volume_expansion.type for c in caps if c.HasField("volume_expansion")]
    assert expansion == [csi_pb2.PluginCapability.VolumeExpansion.ONLINE]
    assert csi.identity.Probe(csi_pb2.ProbeRequest()).ready.value is True


def test_node_info_names_the_node_and_its_topology(csi: Csi) -> None:
    info = csi.node.NodeGetInfo(csi_pb2.NodeGetInfoRequest())
    assert info.node_id == csi.driver.config.node_id
    assert dict(info.accessible_topology.segments) == csi.driver.config.topology
