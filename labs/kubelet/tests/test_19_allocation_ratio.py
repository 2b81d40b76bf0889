"""Checkpoint 19 (patching the kubelet: allocation ratios): the node's CPU and memory capacity, and so
its allocatable, follow the ratios of the file the patched kubelet reads."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.waiting import eventually

from .conftest import PatchedNode
from .kubeletlab import bytes_of, milli_cpu, node_status, write_config

CPU_RATIO, MEMORY_RATIO = 4, 2


def test_19_capacity_scaled_by_the_ratios(kubectl: Kubectl, patched_kubelet: PatchedNode) -> None:
    """`{"cpuRatio": 4, "memoryRatio": 2}` in /var/lib/kubelet/kubelab.json: within a status update the
    node's cpu capacity is 4 times and its memory 2 times what cAdvisor reports, and the allocatable
    is the scaled capacity minus the same reservations as before.

    Hint (Chapter 9, patching the kubelet): the ratio goes where MachineInfo (nodestatus/setters.go)
    has just read the capacity, before the allocatable is computed from it.
    """
    node, cap, alloc = patched_kubelet.name, patched_kubelet.capacity, patched_kubelet.allocatable
    write_config(node, {"cpuRatio": CPU_RATIO, "memoryRatio": MEMORY_RATIO})
    want_cpu = milli_cpu(cap["cpu"]) * CPU_RATIO
    want_memory = bytes_of(cap["memory"]) * MEMORY_RATIO
    reserved_cpu = milli_cpu(cap["cpu"]) - milli_cpu(alloc["cpu"])
    reserved_memory = bytes_of(cap["memory"]) - bytes_of(alloc["memory"])

    def scaled() -> dict[str, str]:
        status = node_status(kubectl, node)
        c, a = status["capacity"], status["allocatable"]
        assert (milli_cpu(c["cpu"]), bytes_of(c["memory"])) == (want_cpu, want_memory), c
        assert milli_cpu(a["cpu"]) == want_cpu - reserved_cpu, a
        assert bytes_of(a["memory"]) == want_memory - reserved_memory, a
        return c

    eventually(scaled, timeout=60, interval=1, what=f"{node}'s capacity scaled by the ratios")
