"""NodeName: a pod that names its node (``spec.nodeName`` set by its author) fits only there."""

from __future__ import annotations

from typing import Any

from kubelab_scheduler import pods
from kubelab_scheduler.framework.interface import CycleState, Pod
from kubelab_scheduler.framework.runtime import Handle
from kubelab_scheduler.framework.status import Status
from kubelab_scheduler.nodeinfo import NodeInfo

REASON = "node(s) didn't match the requested node name"


class NodeName:
    name = "NodeName"

    def __init__(self, args: dict[str, Any], handle: Handle) -> None:
        pass

    def filter(self, state: CycleState, pod: Pod, node: NodeInfo) -> Status:
        wanted = pods.node_name(pod)
        if wanted and wanted != node.name:
            return Status.unschedulable(REASON, resolvable=False)
        return Status()

    def events_to_register(self) -> set[str]:
        return {"NodeAdd"}
