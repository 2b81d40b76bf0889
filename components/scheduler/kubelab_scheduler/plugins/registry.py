"""The plugins a profile may name, by upstream's names."""

from __future__ import annotations

from kubelab_scheduler.framework.runtime import Factory
from kubelab_scheduler.gang.coscheduling import Coscheduling
from kubelab_scheduler.plugins.defaultbinder import DefaultBinder
from kubelab_scheduler.plugins.defaultpreemption import DefaultPreemption
from kubelab_scheduler.plugins.nodeaffinity import NodeAffinity
from kubelab_scheduler.plugins.nodename import NodeName
from kubelab_scheduler.plugins.noderesources import NodeResourcesBalancedAllocation, NodeResourcesFit
from kubelab_scheduler.plugins.nodeunschedulable import NodeUnschedulable
from kubelab_scheduler.plugins.podtopologyspread import PodTopologySpread
from kubelab_scheduler.plugins.queuesort import PrioritySort
from kubelab_scheduler.plugins.tainttoleration import TaintToleration

PLUGINS: list[type] = [
    PrioritySort, NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodeResourcesFit,
    NodeResourcesBalancedAllocation, PodTopologySpread, DefaultBinder, DefaultPreemption, Coscheduling,
]  # fmt: skip


def in_tree() -> dict[str, tuple[type, Factory]]:
    """name -> (class, factory(args, handle))."""
    return {cls.name: (cls, cls) for cls in PLUGINS}  # type: ignore[attr-defined]
