"""What only the CSI lab's checkpoints need: deploying kubelab-csi (components/csi/deploy) with its
sidecars and the snapshot CRDs, taking it down again, and the objects the checkpoints make (PVCs,
pods using them, snapshots) with waits that say what the cluster did when they time out."""

from __future__ import annotations

import json
import time
from typing import Any

from kubelab_cluster.images.csi_sidecars import snapshot_crds
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.pins import pins
from kubelab_labkit import kube, manifests
from kubelab_labkit.nodes import node_run
from kubelab_labkit.waiting import eventually

DRIVER = "csi.kubelab.dev"
SYSTEM_NS = "kubelab-csi"
STORAGE_CLASS = "kubelab-csi"
SNAPSHOT_CLASS = "kubelab-csi"
TOPOLOGY_KEY = "topology.csi.kubelab.dev/node"
POOL_SIZE = "8G"  # per node, sparse; Kubernetes' storage tests grow 1 Gi volumes to 2 Gi
MiB = 1 << 20
GiB = 1 << 30

# -- deploying -----------------------------------------------------------------------------


def deploy(kubectl: Kubectl, image: str, sidecars: dict[str, str]) -> None:
    for crd in snapshot_crds(pins()):
        kubectl.run("apply", "--server-side", "-f", str(crd))
    kubectl.run("wait", "--for=condition=Established", "crd/volumesnapshots.snapshot.storage.k8s.io", "--timeout=60s")
    manifests.apply_component(
        kubectl,
        "csi",
        "node.yaml",
        IMAGE=image,
        POOL_SIZE=POOL_SIZE,
        PROVISIONER=sidecars["csi-provisioner"],
        RESIZER=sidecars["csi-resizer"],
        SNAPSHOTTER=sidecars["csi-snapshotter"],
    )
    manifests.apply_component(
        kubectl, "csi", "snapshot-controller.yaml", SNAPSHOT_CONTROLLER=sidecars["snapshot-controller"]
    )
    manifests.apply_component(kubectl, "csi", "storage.yaml")
    kube.rollout(kubectl, "daemonset/kubelab-csi-node", namespace=SYSTEM_NS, timeout=240)
    kube.rollout(kubectl, "deployment/snapshot-controller", namespace=SYSTEM_NS, timeout=120)


def uninstall(kubectl: Kubectl, workers: list[str]) -> None:
    """Take the driver down once no PV of it is left; unmount the node pools (their images stay)."""

    def no_volumes() -> bool:
        left = [pv["metadata"]["name"] for pv in kubectl.json("get", "pv")["items"] if driver_of(pv) == DRIVER]
        assert not left, f"PVs of {DRIVER} still there: {left}"
        return True

    eventually(no_volumes, timeout=120, what=f"every PV of {DRIVER} deleted")
    for name in ("storage.yaml", "snapshot-controller.yaml"):
        kubectl.run(
            "delete", "--ignore-not-found", "--wait=true", "-f", str(manifests.manifest_path("csi", name)), check=False
        )
    kubectl.run(
        "-n", SYSTEM_NS, "delete", "daemonset", "kubelab-csi-node", "--ignore-not-found", "--wait=true", check=False
    )
    kubectl.run("delete", "namespace", SYSTEM_NS, "--ignore-not-found", "--wait=true", timeout=180, check=False)
    left = {}
    for node in workers:
        staged = node_run(node, "sh", "-c", f"grep -c {DRIVER} /proc/self/mountinfo || true").strip()
        if staged != "0":
            left[node] = staged
        pool = "/var/lib/kubelab-csi/pool"
        node_run(node, "sh", "-c", f"! mountpoint -q {pool} || umount {pool}", check=False)
    assert not left, f"mounts of {DRIVER}'s volumes left after every PV went (node: count): {left}"


def driver_of(pv: dict[str, Any]) -> str:
    return str(pv.get("spec", {}).get("csi", {}).get("driver", ""))


def driver_pod(kubectl: Kubectl, node: str) -> str:
    pods = kubectl.json("-n", SYSTEM_NS, "get", "pods", "-l", "app.kubernetes.io/name=kubelab-csi",
                        "--field-selector", f"spec.nodeName={node}")["items"]  # fmt: skip
    assert pods, f"no kubelab-csi pod on {node}"
    return str(pods[0]["metadata"]["name"])


# -- objects -------------------------------------------------------------------------------


def pvc(
    name: str, namespace: str, size: str, *, block: bool = False, source: dict[str, str] | None = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "storageClassName": STORAGE_CLASS,
        "accessModes": ["ReadWriteOncePod"],
        "resources": {"requests": {"storage": size}},
        "volumeMode": "Block" if block else "Filesystem",
    }
    if source:
        spec["dataSource"] = source
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": namespace},
            "spec": spec}  # fmt: skip


def snapshot_source(name: str) -> dict[str, str]:
    return {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": name}


def pvc_source(name: str) -> dict[str, str]:
    return {"kind": "PersistentVolumeClaim", "name": name}


def pod_with(name: str, namespace: str, image: str, claim: str, *, node: str | None = None, block: bool = False,
             script: str = "sleep infinity") -> dict[str, Any]:  # fmt: skip
    """A pod using ``claim`` at /data (a filesystem) or /dev/xvda (raw block), running ``script``."""
    container: dict[str, Any] = {"name": "main", "image": image, "imagePullPolicy": "IfNotPresent",
                                 "command": ["sh", "-c", script]}  # fmt: skip
    if block:
        container["volumeDevices"] = [{"name": "data", "devicePath": "/dev/xvda"}]
    else:
        container["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    spec: dict[str, Any] = {
        "terminationGracePeriodSeconds": 0,
        "enableServiceLinks": False,
        "containers": [container],
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}],
    }
    if node:
        spec["nodeSelector"] = {"kubernetes.io/hostname": node}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def snapshot(name: str, namespace: str, claim: str) -> dict[str, Any]:
    return {
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshot",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"volumeSnapshotClassName": SNAPSHOT_CLASS, "source": {"persistentVolumeClaimName": claim}},
    }


def exec_sh(kubectl: Kubectl, namespace: str, pod: str, script: str, check: bool = True) -> Any:
    if check:
        return kubectl.run("-n", namespace, "exec", pod, "--", "sh", "-c", script)
    return kubectl.attempt("-n", namespace, "exec", pod, "--", "sh", "-c", script)


def pod_node(kubectl: Kubectl, namespace: str, pod: str) -> str:
    return str(kubectl.json("-n", namespace, "get", "pod", pod)["spec"].get("nodeName", ""))


def bound_pv(kubectl: Kubectl, namespace: str, claim: str, timeout: float = 120) -> dict[str, Any]:
    def bound() -> dict[str, Any]:
        obj = kubectl.json("-n", namespace, "get", "pvc", claim)
        assert obj["status"].get("phase") == "Bound", (
            f"PVC {claim} is {obj['status'].get('phase')}\n{kube.events(kubectl, namespace, claim)}"
        )
        return dict(kubectl.json("get", "pv", obj["spec"]["volumeName"]))

    result: dict[str, Any] = eventually(bound, timeout=timeout, what=f"PVC {claim} bound")
    return result


def pv_node(pv: dict[str, Any]) -> str:
    terms = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    return str(terms[0]["matchExpressions"][0]["values"][0])


def capacity_of(kubectl: Kubectl, node: str) -> int:
    """The CSIStorageCapacity the provisioner on ``node`` published for the StorageClass, in bytes."""
    for item in kubectl.json("-n", SYSTEM_NS, "get", "csistoragecapacities")["items"]:
        labels = item.get("nodeTopology", {}).get("matchLabels", {})
        if item.get("storageClassName") == STORAGE_CLASS and labels.get(TOPOLOGY_KEY) == node:
            return quantity(str(item.get("capacity", "0")))
    raise AssertionError(f"no CSIStorageCapacity for {node} and {STORAGE_CLASS}")


SUFFIXES = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "k": 10**3, "M": 10**6, "G": 10**9}


def quantity(text: str) -> int:
    for suffix, factor in sorted(SUFFIXES.items(), key=lambda kv: -len(kv[0])):
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    return int(text)


def wait_snapshot_ready(kubectl: Kubectl, namespace: str, name: str, timeout: float = 120) -> dict[str, Any]:
    def ready() -> dict[str, Any]:
        obj = kubectl.json("-n", namespace, "get", "volumesnapshot", name)
        status = obj.get("status") or {}
        assert status.get("readyToUse") is True, (
            f"snapshot {name}: {json.dumps(status)}\n{kube.events(kubectl, namespace, name)}"
        )
        return dict(obj)

    result: dict[str, Any] = eventually(ready, timeout=timeout, what=f"VolumeSnapshot {name} ready")
    return result


def wait_gone(kubectl: Kubectl, *args: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while kubectl.attempt(*args).returncode == 0:
        assert time.monotonic() < deadline, f"still there: {' '.join(args)}"
        time.sleep(1)
