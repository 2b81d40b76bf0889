"""What checkpoint 4 (7.3) needs: kube-apiserver swapped for the toolchain's patched build with the
KubelabOwner plugin enabled by flag, the admission webhooks registered (the webhooks' pod of 7.1 and
7.2 serves them) and the admission policies created; all of it undone at the end, kube-apiserver
back on the cluster's own image and flags (other labs find it as it was)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from kubelab_apiserver.admission import rules
from kubelab_apiserver.admission.registrations import policies, webhook_configurations
from kubelab_client.errors import ApiError
from kubelab_client.kube import Api
from kubelab_cluster.images.control_plane import build_patched_apiserver
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.kind.preflight import CLUSTER_FILES
from kubelab_cluster.kind.webhook_pki import CA_CERT
from kubelab_cluster.pins import pins
from kubelab_labkit import kube, static_pods
from kubelab_labkit.images import deliver
from kubelab_labkit.nodes import nodes
from kubelab_labkit.waiting import eventually

from .webhooklab import ISSUER_URL

PLUGIN = "KubelabOwner"
NS = "kubelab-apiserver-admission"  # the checkpoint's ConfigMaps
COMPONENT = "kube-apiserver"


@dataclass
class Admission:
    node: str  # the control-plane node
    image: str  # the patched kube-apiserver's image, as the node pulled it
    version: str  # what the patched kube-apiserver reports
    swap_seconds: float  # from writing the manifest to the patched kube-apiserver answering


def control_plane(kubectl: Kubectl) -> str:
    (node,) = [n.name for n in nodes(kubectl).values() if n.role == "control-plane"]
    return node


def server_version(kubectl: Kubectl) -> str:
    try:
        proc = kubectl.attempt("get", "--raw", "/version", timeout=15)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"kube-apiserver does not answer: {exc}") from exc
    assert proc.returncode == 0, f"kube-apiserver does not answer: {proc.stderr.strip()}"
    version: str = json.loads(proc.stdout)["gitVersion"]
    return version


def _serving(kubectl: Kubectl, version: str) -> bool:
    got = server_version(kubectl)
    assert got == version, f"kube-apiserver is {got}, not yet {version}"
    try:
        proc = kubectl.attempt("get", "--raw", "/readyz", timeout=15)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"/readyz: {exc}") from exc
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", f"/readyz: {proc.stdout or proc.stderr}"
    return True


# The control plane's leaders: kube-apiserver gone for longer than their renew deadline (10 s), they
# lose their lease and restart; the lab waits until both lead again.
LEADERS = ("kube-controller-manager", "kube-scheduler")


def _leading_since(kubectl: Kubectl, since: dt.datetime) -> bool:
    for name in LEADERS:
        lease = kubectl.json("-n", "kube-system", "get", "lease", name)["spec"]
        renewed = dt.datetime.fromisoformat(lease["renewTime"].replace("Z", "+00:00"))
        assert renewed > since, f"{name} has not renewed its lease since kube-apiserver came back ({renewed})"
    return True


def wait_serving(kubectl: Kubectl, version: str, timeout: float = 240) -> None:
    """kube-apiserver ``version`` ready, then the controller-manager and the scheduler leading again."""
    eventually(lambda: _serving(kubectl, version), timeout=timeout, interval=2, what=f"kube-apiserver {version} ready")
    back = dt.datetime.now(dt.UTC)
    # a leader that lost its lease exits; after a few swaps the kubelet restarts it only after a back-off (up to 5 min)
    eventually(lambda: _leading_since(kubectl, back), timeout=420, interval=2, what="the control plane's leaders")


def swap_in(kubectl: Kubectl) -> Admission:
    node = control_plane(kubectl)
    p = pins()
    image = deliver(build_patched_apiserver(p), [node])
    version = image.rsplit(":", 1)[1]

    def edit(doc: dict[str, Any]) -> None:
        c = static_pods.container(doc, COMPONENT)
        c["image"] = image
        enabled = [p for p in (static_pods.flag_value(c["command"], "enable-admission-plugins") or "").split(",") if p]
        static_pods.set_flag(c["command"], "enable-admission-plugins", ",".join([*enabled, PLUGIN]))

    started = time.monotonic()
    static_pods.swap(node, COMPONENT, edit)
    wait_serving(kubectl, version)
    return Admission(node, image, version, time.monotonic() - started)


def swap_out(kubectl: Kubectl) -> None:
    """kube-apiserver back on the cluster's manifest (the saved original), serving the pinned version."""
    static_pods.restore(control_plane(kubectl), COMPONENT)
    wait_serving(kubectl, pins().kubernetes.version)


def register(kubectl: Kubectl, namespace: str) -> None:
    """Register the webhooks and create the policies, then wait until each way is in force in ``namespace``:
    kube-apiserver loads registrations through informers, and compiles a policy's CEL, a moment later."""
    ca_pem = (CLUSTER_FILES / CA_CERT).read_bytes()
    kube.apply(kubectl, *webhook_configurations(ISSUER_URL, ca_pem), *policies())
    api = Api.from_config(str(kubectl.kubeconfig))
    for way in rules.WAYS:
        eventually(lambda way=way: in_force(api, namespace, way), timeout=60, interval=0.5, what=f"the {way} way")


def in_force(api: Api, namespace: str, way: str) -> bool:
    """A probe ConfigMap of ``way`` gets its owner (then goes), and one with a password key is refused."""
    collection = f"/api/v1/namespaces/{namespace}/configmaps"
    name = f"probe-{way}-{time.monotonic_ns()}"
    probe = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {rules.BY_LABEL: way}}}
    try:
        made = api.request("POST", collection, body=probe)
        api.request("DELETE", f"{collection}/{name}")
        assert rules.OWNER_ANNOTATION in (made["metadata"].get("annotations") or {}), f"{way}: no owner yet"
        api.request("POST", collection, body={**probe, "data": {"password": "x"}})
    except ApiError as exc:
        assert exc.status == 403, f"{way}: {exc}"
        return True
    api.request("DELETE", f"{collection}/{name}")
    raise AssertionError(f"{way}: a password key is not refused yet")


def unregister(kubectl: Kubectl) -> None:
    ca_pem = (CLUSTER_FILES / CA_CERT).read_bytes()
    kube.delete(kubectl, *webhook_configurations(ISSUER_URL, ca_pem), *policies())
