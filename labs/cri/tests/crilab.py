"""What only the CRI lab needs: kubelab-cri installed on the swappable worker as a systemd
service, that node's kubelet pointed at it (and back at containerd), and the node-side
inspections of what the runtime leaves (namespaces, mounts, cgroups, processes).

Swapping a node's runtime, as an operator would: cordon and drain the node, stop its kubelet,
remove every pod sandbox of the runtime it leaves (the kubelet recreates DaemonSet pods on the
new one), point the kubelet at the other socket (a systemd drop-in adding
``--container-runtime-endpoint`` and ``--image-service-endpoint``), start it, wait for Ready,
uncordon. Putting it back is the same swap towards containerd, then the service is stopped.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from kubelab_cluster.images import docker
from kubelab_cluster.images.lab import SITE
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.kind.registry import NAME as REGISTRY
from kubelab_cluster.kind.registry import PREFIX, ensure_registry
from kubelab_labkit import manifests, pods
from kubelab_labkit.nodes import node_run, node_sh
from kubelab_labkit.waiting import eventually

SOCKET = "/run/kubelab-cri/kubelab-cri.sock"
OURS = f"unix://{SOCKET}"
CONTAINERD = "unix:///run/containerd/containerd.sock"
ROOT = "/var/lib/kubelab-cri"
IMPL_DIR = "/opt/kubelab/impl"
UNIT = "/etc/systemd/system/kubelab-cri.service"
DROPIN = "/etc/systemd/system/kubelet.service.d/30-kubelab-cri.conf"
RUNC = "/usr/local/bin/runc"
# Where this runtime pulls from: the cluster's local registry stands in for every registry the
# node's pods name (an air-gapped node's usual mirror configuration).
MIRRORED = ("localhost:5001", "registry.k8s.io", "docker.io")
STAMP = f"{SITE}/.kubelab-image"

KUBELET_DROPIN = f"""\
# kube-dev-lab Chapter 4: this node's kubelet runs its pods on kubelab-cri (removed to put containerd back).
[Service]
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS \\
    --container-runtime-endpoint={OURS} --image-service-endpoint={OURS} \\
    --runtime-cgroups=/system.slice/kubelab-cri.service
"""


def crictl(node: str, endpoint: str, *args: str, check: bool = True, timeout: float = 120) -> str:
    argv = ["crictl", "--runtime-endpoint", endpoint, "--image-endpoint", endpoint, "--timeout", "60s", *args]
    return node_run(node, *argv, check=check, timeout=timeout)


# -- installing the runtime on the node -----------------------------------------------------
def install_site(node: str, lab_image: str) -> None:
    """The lab image's site-packages (every workspace package, locked dependencies) on the node."""
    if node_sh(node, f"cat {STAMP} 2>/dev/null || true").strip() == lab_image:
        return
    holder = subprocess.run(
        ["docker", "create", lab_image, "true"], capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        node_sh(node, f"rm -rf {SITE} && mkdir -p {Path(SITE).parent}")
        export = subprocess.Popen(["docker", "cp", f"{holder}:{SITE}", "-"], stdout=subprocess.PIPE)
        untar = ["docker", "exec", "-i", node, "tar", "-x", "-C", str(Path(SITE).parent)]
        load = subprocess.run(untar, stdin=export.stdout, capture_output=True, check=False)
        export.wait()
        assert export.returncode == 0 and load.returncode == 0, f"copying {SITE} to {node}: {load.stderr!r}"
    finally:
        subprocess.run(["docker", "rm", "-f", holder], capture_output=True, check=False)
    node_sh(node, f"echo '{lab_image}' > {STAMP}")


def install_impl(node: str, package_dir: Path | None) -> None:
    """A student's package at IMPL_DIR (first on the service's PYTHONPATH), or nothing for the reference."""
    node_sh(node, f"rm -rf {IMPL_DIR} && mkdir -p {IMPL_DIR}")
    if package_dir is None:
        return
    pack = ["tar", "-c", "--exclude=__pycache__", "-C", str(package_dir.parent), package_dir.name]
    tar = subprocess.run(pack, capture_output=True, check=True).stdout
    subprocess.run(["docker", "exec", "-i", node, "tar", "-x", "-C", IMPL_DIR], input=tar, check=True)


def unit_text() -> str:
    mirrors = " ".join(f"--registry-mirror {host}=http://{REGISTRY}:5000" for host in MIRRORED)
    return manifests.render(
        "cri", "kubelab-cri.service", SITE=SITE, IMPL=IMPL_DIR, SOCKET=SOCKET, RUNC=RUNC, MIRRORS=mirrors
    )


def start_runtime(node: str) -> None:
    node_run(node, "sh", "-c", f"cat > {UNIT}", stdin=unit_text())
    node_sh(node, "systemctl daemon-reload && systemctl restart kubelab-cri")
    wait_for_runtime(node)


def wait_for_runtime(node: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        out = crictl(node, OURS, "version", check=False, timeout=30)
        if "RuntimeName:  kubelab-cri" in out:
            return
        if time.monotonic() > deadline:
            journal = node_sh(node, "journalctl -u kubelab-cri --no-pager -n 40", check=False)
            raise AssertionError(f"kubelab-cri did not answer on {node} within {timeout:.0f} s:\n{journal}")
        time.sleep(0.5)


def stop_runtime(node: str) -> None:
    node_sh(node, "systemctl disable --now kubelab-cri 2>/dev/null; rm -f " + UNIT + "; systemctl daemon-reload")


# -- pointing the kubelet -------------------------------------------------------------------
def wait_ready(kubectl: Kubectl, node: str, runtime: str, timeout: float = 180) -> None:
    """Until the node reports ``runtime`` (``kubelab-cri``, ``containerd``) and is Ready: a Ready
    condition from before the kubelet's restart does not count."""

    def ready_on_runtime() -> bool:
        status = kubectl.json("get", "node", node)["status"]
        version = status["nodeInfo"]["containerRuntimeVersion"]
        conditions = {c["type"]: c["status"] for c in status["conditions"]}
        assert version.startswith(f"{runtime}://"), f"the node reports {version}"
        assert conditions.get("Ready") == "True", f"conditions {conditions}"
        return True

    eventually(ready_on_runtime, timeout=timeout, interval=1, what=f"{node} Ready on {runtime}")


def current_endpoint(node: str) -> str:
    return OURS if node_sh(node, f"test -f {DROPIN} && echo yes || true").strip() == "yes" else CONTAINERD


def use_runtime(kubectl: Kubectl, node: str, endpoint: str) -> None:
    """Move the node's kubelet to ``endpoint`` (OURS or CONTAINERD); every pod of the other one goes."""
    leaving = current_endpoint(node)
    kubectl.run("cordon", node)
    drain = ["drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--force", "--grace-period=5"]
    kubectl.run(*drain, "--timeout=120s", timeout=150, check=False)
    node_sh(node, "systemctl stop kubelet")
    if leaving != endpoint:
        crictl(node, leaving, "rmp", "--force", "--all", check=False, timeout=300)
    if endpoint == OURS:
        node_run(node, "sh", "-c", f"cat > {DROPIN}", stdin=KUBELET_DROPIN)
    else:
        node_sh(node, f"rm -f {DROPIN}")
    node_sh(node, "systemctl daemon-reload && systemctl start kubelet")
    wait_ready(kubectl, node, "kubelab-cri" if endpoint == OURS else "containerd")
    kubectl.run("uncordon", node)


LEFTOVER_PROBES = {
    "netns": "ls /run/netns 2>/dev/null | grep '^kcri-' || true",
    "mounts": f"grep ' {ROOT}/' /proc/mounts | cut -d' ' -f2 || true",
    "cgroups": "find /sys/fs/cgroup/memory -name 'kcri-*' 2>/dev/null || true",
    "monitors": "pgrep -af '[k]ubelab_cri.runtime.shim' || true",  # [k]: not this shell's own command line
    "runc": f"{RUNC} --root /run/kubelab-cri/runc list -q 2>/dev/null || true",
}


def leftovers(node: str) -> dict[str, list[str]]:
    """What kubelab-cri's pods can leave on the node, by kind: one entry per namespace, mount,
    cgroup, monitor process and runc container still there."""
    out = {}
    for what, script in LEFTOVER_PROBES.items():
        out[what] = [line for line in node_sh(node, script).splitlines() if line.strip()]
    return out


def daemonset_pods(kubectl: Kubectl, node: str) -> list[dict[str, Any]]:
    """The node's pods that a DaemonSet owns (kube-proxy; the CNI lab's agent once it has run)."""
    items = kubectl.json("get", "pods", "-A", "--field-selector", f"spec.nodeName={node}")["items"]
    return [
        p
        for p in items
        if any(o.get("kind") == "DaemonSet" for o in p["metadata"].get("ownerReferences", []))
        and "deletionTimestamp" not in p["metadata"]
    ]


def mirror_node_images(kubectl: Kubectl, node: str, node_containers: list[str]) -> list[str]:
    """Every image the node's DaemonSet pods run, in the cluster's registry under its repository
    path (``registry.k8s.io/kube-proxy:v1.37.2`` as ``kube-proxy:v1.37.2``), where the runtime's
    mirrors look; images already named ``localhost:5001/...`` are there. Returns what was pushed."""
    ensure_registry(node_containers)
    pods = kubectl.json("get", "pods", "-A", "--field-selector", f"spec.nodeName={node}")["items"]
    wanted = sorted(
        {
            c["image"]
            for p in pods
            if any(o.get("kind") == "DaemonSet" for o in p["metadata"].get("ownerReferences", []))
            for c in p["spec"].get("containers", []) + p["spec"].get("initContainers", [])
            if not c["image"].startswith("localhost:")
        }
    )
    for ref in wanted:
        path = ref.split("/", 1)[1] if "." in ref.split("/", 1)[0] else ref
        target = f"{PREFIX}/{path}"
        docker.tag(ref, target)
        docker.docker(target, "push", target)
    return wanted


# -- the checkpoints' workloads -------------------------------------------------------------
WEB = "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"


def web_objects(namespace: str, image: str, node: str, client_node: str) -> list[dict[str, Any]]:
    """Deployment `web` (two busybox httpd replicas on ``node``, Ready by an exec probe), its
    Service, and a client pod on ``client_node``."""
    container = {
        "name": "httpd",
        "image": image,
        "command": ["sh", "-c", WEB],
        "ports": [{"containerPort": 8080}],
        "readinessProbe": {
            "exec": {"command": ["wget", "-qO-", "http://127.0.0.1:8080/"]},
            "periodSeconds": 2,
        },
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "nodeSelector": {"kubernetes.io/hostname": node},
                    "terminationGracePeriodSeconds": 1,
                    "containers": [container],
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    client = pods.pod("client", namespace, image, ["sleep", "3600"], node=client_node)
    return [deployment, service, client]
