"""What the runtime says about itself: Version, Status and RuntimeConfig (book 4.2).

The kubelet calls these before the node can be Ready: Version once (its ``version`` must be the
kubelet API version ``0.1.0``), RuntimeConfig once (the cgroup driver the kubelet then uses;
it must match the node's), Status every few seconds (``RuntimeReady`` and ``NetworkReady``
both true, or the node is NotReady with the condition's reason and message).

Network readiness is containerd's rule: the node's CNI configuration directory holds a
network configuration (``*.conf``, ``*.conflist``, ``*.json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kubelab_kit.cni.conflist import NetworkConfigError, network_file
from kubelab_protos.gen.cri.v1 import api_pb2

RUNTIME_NAME = "kubelab-cri"
RUNTIME_VERSION = "0.1.0"
KUBELET_API_VERSION = "0.1.0"  # the only value the kubelet accepts in VersionResponse.version
CRI_API_VERSION = "v1"
CGROUP_DRIVERS = {"systemd": api_pb2.SYSTEMD, "cgroupfs": api_pb2.CGROUPFS}


@dataclass(frozen=True)
class RuntimeInfo:
    """The facts these answers come from: the cgroup driver and where the CNI configuration lives."""

    cgroup_driver: str = "systemd"
    cni_conf_dir: Path = Path("/etc/cni/net.d")

    def __post_init__(self) -> None:
        if self.cgroup_driver not in CGROUP_DRIVERS:
            raise ValueError(f"cgroup driver {self.cgroup_driver!r}: expected one of {', '.join(CGROUP_DRIVERS)}")

    def version(self) -> api_pb2.VersionResponse:
        return api_pb2.VersionResponse(
            version=KUBELET_API_VERSION,
            runtime_name=RUNTIME_NAME,
            runtime_version=RUNTIME_VERSION,
            runtime_api_version=CRI_API_VERSION,
        )

    def network_config(self) -> Path | None:
        """The first network configuration, in libcni's order (by file name), or None."""
        try:
            return network_file(self.cni_conf_dir)
        except NetworkConfigError:
            return None

    def status(self, verbose: bool = False) -> api_pb2.StatusResponse:
        runtime = api_pb2.RuntimeCondition(type="RuntimeReady", status=True)
        config = self.network_config()
        if config is None:
            network = api_pb2.RuntimeCondition(
                type="NetworkReady",
                status=False,
                reason="NetworkPluginNotReady",
                message=f"no network configuration in {self.cni_conf_dir} (*.conf, *.conflist, *.json)",
            )
        else:
            network = api_pb2.RuntimeCondition(type="NetworkReady", status=True)
        info = {"cniConfig": str(config or ""), "cgroupDriver": self.cgroup_driver} if verbose else {}
        return api_pb2.StatusResponse(
            status=api_pb2.RuntimeStatus(conditions=[runtime, network]),
            info=info,
            runtime_handlers=[api_pb2.RuntimeHandler(name="")],  # the default handler only
        )

    def runtime_config(self) -> api_pb2.RuntimeConfigResponse:
        linux = api_pb2.LinuxRuntimeConfiguration(cgroup_driver=CGROUP_DRIVERS[self.cgroup_driver])
        return api_pb2.RuntimeConfigResponse(linux=linux)
