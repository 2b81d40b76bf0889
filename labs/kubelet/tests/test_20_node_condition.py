"""Checkpoint 20 (patching the kubelet: a node condition): KubelabHealthy appears, follows its source,
says why when the source is broken, and goes with it."""

from __future__ import annotations

from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.waiting import eventually

from .conftest import PatchedNode
from .kubeletlab import condition, write_config

RATIOS = {"cpuRatio": 4, "memoryRatio": 2}  # checkpoint 19's, kept


def test_20_condition_follows_the_file(kubectl: Kubectl, patched_kubelet: PatchedNode) -> None:
    """`condition: {status: True, reason: LabSaysSo}` → KubelabHealthy True with that reason; then
    False (a new lastTransitionTime); a file that is not JSON → Unknown, reason KubelabConfigInvalid;
    no condition in the file → the condition is gone.

    Hint (Chapter 9, patching the kubelet): a setter appended to defaultNodeStatusFuncs
    (kubelet_node_status.go), like the kubelet's own Ready condition.
    """
    node = patched_kubelet.name

    def wait(status: str | None, reason: str = "") -> dict[str, Any]:
        """The condition once it has ``status`` and ``reason`` (``{}`` once it is gone, for None)."""

        def seen() -> dict[str, Any] | bool:
            c = condition(kubectl, node)
            if status is None:
                assert c is None, c
                return True
            assert c is not None and (c["status"], c["reason"]) == (status, reason), c
            return c

        found = eventually(seen, timeout=60, interval=1, what=f"KubelabHealthy {status or 'gone'} on {node}")
        return found if isinstance(found, dict) else {}

    write_config(node, {**RATIOS, "condition": {"status": "True", "reason": "LabSaysSo", "message": "all good"}})
    healthy = wait("True", "LabSaysSo")
    write_config(node, {**RATIOS, "condition": {"status": "False", "reason": "LabSaysNo", "message": "broken"}})
    broken = wait("False", "LabSaysNo")
    assert broken["lastTransitionTime"] >= healthy["lastTransitionTime"]
    assert broken["message"] == "broken"
    write_config(node, "{not json")
    invalid = wait("Unknown", "KubelabConfigInvalid")
    assert "kubelab.json" in invalid["message"], invalid
    write_config(node, RATIOS)
    wait(None)
