"""What one driver process is: its name, version, node, and which optional parts it offers."""

from __future__ import annotations

from dataclasses import dataclass

DRIVER_NAME = "csi.kubelab.dev"
TOPOLOGY_KEY = "topology.csi.kubelab.dev/node"


@dataclass(frozen=True)
class DriverConfig:
    node_id: str
    name: str = DRIVER_NAME
    version: str = "0.1.0"
    topology_key: str = TOPOLOGY_KEY
    # ControllerExpandVolume. A node-local driver deployed per node has no controller that can
    # reach every node's pool, so in the cluster expansion happens in NodeExpandVolume on the
    # volume's node (the external-resizer then only updates the PV); csi-sanity tests both.
    controller_expansion: bool = True
    max_volumes_per_node: int = 256

    @property
    def topology(self) -> dict[str, str]:
        return {self.topology_key: self.node_id}
