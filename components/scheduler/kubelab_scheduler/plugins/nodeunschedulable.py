"""NodeUnschedulable: a cordoned node (``spec.unschedulable``) takes only pods that tolerate
``node.kubernetes.io/unschedulable:NoSchedule``."""

from __future__ import annotations

from typing import Any

from kubelab_scheduler.framework.interface import CycleState, Pod
from kubelab_scheduler.framework.runtime import Handle
from kubelab_scheduler.framework.status import Status
from kubelab_scheduler.nodeinfo import NodeInfo
from kubelab_scheduler.plugins.tolerations import pod_tolerations, tolerated

REASON = "node(s) were unschedulable"
TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}


class NodeUnschedulable:
    name = "NodeUnschedulable"

    def __init__(self, args: dict[str, Any], handle: Handle) -> None:
        pass

    def filter(self, state: CycleState, pod: Pod, node: NodeInfo) -> Status:
        if node.unschedulable and not tolerated(pod_tolerations(pod), TAINT):
            return Status.unschedulable(REASON, resolvable=False)
        return Status()

    def events_to_register(self) -> set[str]:
        return {"NodeAdd", "NodeUpdate"}
