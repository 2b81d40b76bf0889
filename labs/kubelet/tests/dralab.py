"""What only the kubelet lab's DRA checkpoints need: deploying kubelab-dra (kubelet-plugins/dra/deploy)
and taking it off the nodes again, claims, templates and pods that use them, and reading what the
driver left on a node (its checkpoint, its CDI specs)."""

from __future__ import annotations

import json
from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, manifests, pods
from kubelab_labkit.nodes import node_sh

DRIVER = "dra.kubelab.dev"
CLASS = "accelerator.dra.kubelab.dev"
SYSTEM_NS = "kubelab-dra"
COMPONENT = "dra"
SEED_COUNT, MODELS = 4, "lab-small,lab-large"  # per node: accel-0..3, small and large in turn
STATE_DIR = "/var/lib/kubelab-dra"
CHECKPOINT = f"{STATE_DIR}/checkpoint.json"
CDI_GLOB = "/var/run/cdi/dra.kubelab.dev-accelerator-*.json"
SOCKET = f"/var/lib/kubelet/plugins/{DRIVER}/dra.sock"
REG_SOCKET = f"/var/lib/kubelet/plugins_registry/{DRIVER}-reg.sock"
ENV_PREFIX = "KUBELAB_DRA_"
LARGE = f'device.attributes["{DRIVER}"].model == "lab-large"'
BIG_MEMORY = f'device.capacity["{DRIVER}"].memory.compareTo(quantity("16Gi")) >= 0'


def deploy(kubectl: Kubectl, image: str, workers: list[str]) -> None:
    for node in workers:  # a fresh devices file and checkpoint: the driver seeds them
        node_sh(node, f"rm -rf {STATE_DIR} {CDI_GLOB}")
    manifests.apply_component(kubectl, COMPONENT, "dra.yaml", IMAGE=image, SEED_COUNT=str(SEED_COUNT), MODELS=MODELS)
    kube.rollout(kubectl, "daemonset/kubelab-dra", namespace=SYSTEM_NS, timeout=180)


def uninstall(kubectl: Kubectl, workers: list[str]) -> None:
    """The driver goes with its RBAC, class and slices, then its files on each node."""
    kubectl.run("delete", "namespace", SYSTEM_NS, "--ignore-not-found", "--wait=true", timeout=180, check=False)
    for kind in ("deviceclass", "clusterrolebinding", "clusterrole"):
        kubectl.run(
            "delete", kind, "--ignore-not-found", CLASS if kind == "deviceclass" else "kubelab-dra", check=False
        )
    kubectl.run("delete", "resourceslices", "--field-selector", f"spec.driver={DRIVER}", "--ignore-not-found",
                check=False)  # fmt: skip
    for node in workers:
        node_sh(node, f"rm -rf {STATE_DIR} {CDI_GLOB} /var/lib/kubelet/plugins/{DRIVER} {REG_SOCKET}", check=False)


def driver_pod(kubectl: Kubectl, node: str) -> str:
    found = kubectl.json("-n", SYSTEM_NS, "get", "pods", "-l", "app.kubernetes.io/name=kubelab-dra",
                         "--field-selector", f"spec.nodeName={node}")["items"]  # fmt: skip
    running = [p for p in found if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]
    assert running, f"no running kubelab-dra pod on {node}"
    return str(running[0]["metadata"]["name"])


def driver_cli(kubectl: Kubectl, node: str, *args: str) -> Any:
    """``kubelab-dra ARGS`` in the node's driver pod (the completed process: it may fail)."""
    return kubectl.attempt("-n", SYSTEM_NS, "exec", driver_pod(kubectl, node), "--", "kubelab-dra", *args)


def driver_log(kubectl: Kubectl, node: str) -> str:
    proc = kubectl.attempt("-n", SYSTEM_NS, "logs", driver_pod(kubectl, node))
    assert proc.returncode == 0, f"the driver's log on {node}: {proc.stderr.strip()}"
    return str(proc.stdout)


def request(selectors: list[str] | None = None) -> dict[str, Any]:
    exactly: dict[str, Any] = {"deviceClassName": CLASS}
    if selectors:
        exactly["selectors"] = [{"cel": {"expression": s}} for s in selectors]
    return {"devices": {"requests": [{"name": "accel", "exactly": exactly}]}}


def claim(name: str, namespace: str, selectors: list[str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim",
            "metadata": {"name": name, "namespace": namespace}, "spec": request(selectors)}  # fmt: skip


def template(name: str, namespace: str, selectors: list[str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaimTemplate",
            "metadata": {"name": name, "namespace": namespace}, "spec": {"spec": request(selectors)}}  # fmt: skip


def claim_pod(
    name: str, namespace: str, image: str, *, claim: str = "", template: str = "", node: str = ""
) -> dict[str, Any]:
    """A pod (through the scheduler; on ``node`` if given, by a node selector) using one claim or a template's."""
    selector = {"kubernetes.io/hostname": node} if node else None
    obj = pods.pod(name, namespace, image, ["sleep", "infinity"], node_selector=selector)
    source = {"resourceClaimName": claim} if claim else {"resourceClaimTemplateName": template}
    obj["spec"]["resourceClaims"] = [{"name": "accel", **source}]
    obj["spec"]["containers"][0]["resources"] = {"claims": [{"name": "accel"}]}
    return obj


def run_claim_pod(kubectl: Kubectl, obj: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
    kube.apply(kubectl, obj)
    return pods.wait_phase(kubectl, obj["metadata"]["namespace"], obj["metadata"]["name"], {"Running"}, timeout)


def devices_seen(kubectl: Kubectl, namespace: str, pod: str) -> dict[str, str]:
    """The devices a pod's environment names (the CDI edits), ``node/device`` → what the driver said of it."""
    out = kubectl.run("-n", namespace, "exec", pod, "--", "env")
    values = [line.split("=", 1)[1] for line in out.splitlines() if line.startswith(ENV_PREFIX) and "=" in line]
    return {v.split(" ", 1)[0]: v for v in values}


def pod_claim_uid(kubectl: Kubectl, namespace: str, pod: str) -> tuple[str, str]:
    """The (name, UID) of the claim a pod uses (a template's claim is named in the pod's status)."""
    obj = kubectl.json("-n", namespace, "get", "pod", pod)
    ref = obj["spec"]["resourceClaims"][0]
    name = ref.get("resourceClaimName") or next(
        s["resourceClaimName"] for s in obj["status"].get("resourceClaimStatuses", []) if s["name"] == ref["name"]
    )
    return name, kubectl.json("-n", namespace, "get", "resourceclaim", name)["metadata"]["uid"]


def allocated(kubectl: Kubectl, namespace: str, claim_name: str) -> list[str]:
    """``pool/device`` of each device the scheduler allocated to a claim."""
    status = kubectl.json("-n", namespace, "get", "resourceclaim", claim_name).get("status", {})
    results = status.get("allocation", {}).get("devices", {}).get("results", [])
    return [f"{r['pool']}/{r['device']}" for r in results if r["driver"] == DRIVER]


def node_checkpoint(node: str) -> dict[str, Any]:
    text = node_sh(node, f"cat {CHECKPOINT} 2>/dev/null || echo '{{\"claims\": {{}}}}'")
    claims: dict[str, Any] = json.loads(text)["claims"]
    return claims


def cdi_claims(node: str) -> list[str]:
    """The claim UIDs whose CDI spec is on the node."""
    out = node_sh(node, f"ls {CDI_GLOB} 2>/dev/null || true")
    prefix = "/var/run/cdi/dra.kubelab.dev-accelerator-"
    return sorted(line[len(prefix) : -len(".json")] for line in out.split())
