"""Checkpoint 7 (book 6.3, 6.7): deleting claims frees their space and leaves nothing on the node."""

from __future__ import annotations

import re

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.nodes import node_sh
from kubelab_labkit.waiting import eventually

from .csilab import MiB, capacity_of, pod_node, wait_gone


def test_07_deleting_claims_frees_the_space(kubectl: Kubectl, namespace: str, driver: str) -> None:
    """The filler and the refused claim go (pods first): the PVs are deleted, the full node's capacity is
    back, its pool holds exactly one subvolume per PV left on that node, and no mount of a deleted
    volume is left there (a staged volume is deleted only once the kubelet has unstaged it).

    Hint (6.3): DeleteVolume deletes the subvolume and its record; the provisioner on the volume's node
    calls it once the PV's reclaim policy (Delete) applies. On the node:
    `ls /var/lib/kubelab-csi/pool/volumes`.
    """
    full = pod_node(kubectl, namespace, "filler")
    low = capacity_of(kubectl, full)
    for name in ("filler", "too-big"):
        kubectl.run("-n", namespace, "delete", "pod", name, "--wait=true")
        kubectl.run("-n", namespace, "delete", "pvc", name, "--wait=true")

    def freed() -> int:
        now = capacity_of(kubectl, full)
        assert now > low + 1000 * MiB, f"{full} reports {now // MiB} MiB, was {low // MiB} MiB with the filler"
        return now

    eventually(freed, timeout=90, interval=2, what=f"{full}'s capacity back")

    def pool_matches_pvs() -> bool:
        pvs = [
            pv
            for pv in kubectl.json("get", "pv")["items"]
            if pv["spec"].get("csi", {}).get("driver") == "csi.kubelab.dev"
        ]
        on_node = sorted(
            pv["spec"]["csi"]["volumeHandle"].split(".")[0]
            for pv in pvs
            if pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"] == [full]
        )
        subvolumes = sorted(node_sh(full, "ls /var/lib/kubelab-csi/pool/volumes").split())
        assert subvolumes == on_node, (subvolumes, on_node)
        # every mount of a volume on the node (staging and pods' paths) is of a volume that exists
        mounted = set(re.findall(r" /volumes/(vol-[0-9a-f]+)", node_sh(full, "cat /proc/self/mountinfo")))
        assert mounted <= set(on_node), f"mounts of deleted volumes left on {full}: {sorted(mounted - set(on_node))}"
        return True

    eventually(pool_matches_pvs, timeout=60, interval=2, what="the pool's subvolumes match the PVs")
    wait_gone(kubectl, "-n", namespace, "get", "pvc", "filler")
