"""What only the kubelet lab's checkpoints need: deploying kubelab-deviceplugin
(kubelet-plugins/deviceplugin/deploy) and taking it off the nodes again, pods that ask for
accelerators, and reading a node's view of the resource."""

from __future__ import annotations

from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, manifests, pods
from kubelab_labkit.nodes import node_sh
from kubelab_labkit.waiting import eventually

RESOURCE = "kubelab.dev/accelerator"
SYSTEM_NS = "kubelab-devices"
COMPONENT = "deviceplugin"
SEED_COUNT, LINK_SIZE = 4, 2  # per node: accel-0..3 in link groups link-0 (0, 1) and link-1 (2, 3)
DEVICES_DIR = "/var/lib/kubelab-devices"
CDI_SPEC = "/var/run/cdi/kubelab.dev-accelerator.json"
SOCKET = "/var/lib/kubelet/device-plugins/kubelab.dev-accelerator.sock"


def deploy(kubectl: Kubectl, image: str, workers: list[str]) -> None:
    for node in workers:  # a fresh inventory: the plugin seeds it
        node_sh(node, f"rm -rf {DEVICES_DIR}")
    manifests.apply_component(
        kubectl, COMPONENT, "deviceplugin.yaml", IMAGE=image, SEED_COUNT=str(SEED_COUNT), LINK_SIZE=str(LINK_SIZE)
    )
    kube.rollout(kubectl, "daemonset/kubelab-deviceplugin", namespace=SYSTEM_NS, timeout=180)


def uninstall(kubectl: Kubectl, workers: list[str]) -> None:
    """The plugin goes, then its files on each node. The nodes keep showing the resource, allocatable
    0, until the kubelet's grace period for a stopped plugin (5 minutes) has passed and it drops the
    resource itself; a patch of the node's status before then is undone at its next status update."""
    kubectl.run("delete", "namespace", SYSTEM_NS, "--ignore-not-found", "--wait=true", timeout=180, check=False)
    for node in workers:
        node_sh(node, f"rm -rf {DEVICES_DIR} {CDI_SPEC} {SOCKET}", check=False)


def plugin_pod(kubectl: Kubectl, node: str) -> str:
    found = kubectl.json("-n", SYSTEM_NS, "get", "pods", "-l", "app.kubernetes.io/name=kubelab-deviceplugin",
                         "--field-selector", f"spec.nodeName={node}")["items"]  # fmt: skip
    running = [p for p in found if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]
    assert running, f"no running kubelab-deviceplugin pod on {node}"
    return str(running[0]["metadata"]["name"])


def plugin_cli(kubectl: Kubectl, node: str, *args: str, check: bool = True) -> Any:
    """``kubelab-deviceplugin ARGS`` in the node's plugin pod."""
    argv = ("-n", SYSTEM_NS, "exec", plugin_pod(kubectl, node), "--", "kubelab-deviceplugin", *args)
    return kubectl.run(*argv) if check else kubectl.attempt(*argv)


def plugin_log(kubectl: Kubectl, node: str) -> str:
    """The node's plugin log; an AssertionError (retried by ``eventually``) while its kubelet cannot serve it."""
    proc = kubectl.attempt("-n", SYSTEM_NS, "logs", plugin_pod(kubectl, node))
    assert proc.returncode == 0, f"the plugin's log on {node}: {proc.stderr.strip()}"
    return proc.stdout


def allocatable(kubectl: Kubectl, node: str) -> int:
    status = kubectl.json("get", "node", node)["status"]
    return int(status.get("allocatable", {}).get(RESOURCE, "0"))


def wait_allocatable(kubectl: Kubectl, node: str, count: int, timeout: float = 90) -> None:
    def check() -> bool:
        seen = allocatable(kubectl, node)
        assert seen == count, f"{node} has {seen} {RESOURCE} allocatable, expected {count}"
        return True

    eventually(check, timeout=timeout, interval=1, what=f"{count} {RESOURCE} allocatable on {node}")


def accelerator_pod(name: str, namespace: str, image: str, node: str, count: int) -> dict[str, Any]:
    """A pod on ``node`` (through the scheduler: a node selector) asking for ``count`` accelerators."""
    obj = pods.pod(name, namespace, image, ["sleep", "infinity"], node_selector={"kubernetes.io/hostname": node})
    obj["spec"]["containers"][0]["resources"] = {"limits": {RESOURCE: str(count)}}
    return obj


def pod_env(kubectl: Kubectl, namespace: str, pod: str) -> dict[str, str]:
    out = kubectl.run("-n", namespace, "exec", pod, "--", "env")
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def run_accelerator_pod(kubectl: Kubectl, namespace: str, name: str, image: str, node: str, count: int) -> list[str]:
    """Start the pod, wait for it, return the device IDs its environment names."""
    kube.apply(kubectl, accelerator_pod(name, namespace, image, node, count))
    pods.wait_phase(kubectl, namespace, name, {"Running"}, timeout=120)
    return pod_env(kubectl, namespace, name)["KUBELAB_ACCELERATORS"].split(",")


def link_of(device_id: str) -> str:
    return f"link-{int(device_id.rsplit('-', 1)[1]) // LINK_SIZE}"
