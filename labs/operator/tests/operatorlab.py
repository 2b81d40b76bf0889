"""What only the operator lab's checkpoints need: deploying the CRD, the operator
(components/operator/deploy) and the policy; CronJob manifests; kubectl attempts that may be
refused (their stderr is the point); the operator's pods, Lease and metrics. Generic helpers
(apply, waiting, namespaces) come from the lab kit.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.pins import repo_root
from kubelab_labkit import kube, manifests
from kubelab_labkit.waiting import eventually
from kubelab_operator import deployment
from kubelab_operator.api.resource import CRONJOB, SCHEDULED_AT

SYSTEM_NS = deployment.NAMESPACE
DEPLOY = repo_root() / "components" / "operator" / "deploy"
CRD = DEPLOY / "crd.yaml"
POLICY = DEPLOY / "policy.yaml"
V1 = "batch.kubelab.dev/v1"
V2 = "batch.kubelab.dev/v2"
CERT_VALIDITY_HOURS = "24"


# -- deploying -----------------------------------------------------------------------------


def deploy(kubectl: Kubectl, image: str) -> None:
    kubectl.run("apply", "-f", str(CRD))
    kube.wait_for(kubectl, f"crd/{CRONJOB.name}", "condition=Established", timeout=60)
    manifests.apply_component(
        kubectl, "operator", "operator.yaml", IMAGE=image, CERT_VALIDITY_HOURS=CERT_VALIDITY_HOURS
    )
    kubectl.run("apply", "-f", str(POLICY))
    kube.rollout(kubectl, "deployment/kubelab-operator", namespace=SYSTEM_NS, timeout=180)
    # Ready pods are not yet a working webhook path: the caBundle is injected by the operator and the
    # Service's rules reach each node's kube-proxy a moment later (until then the API server's call to
    # the ClusterIP can end up anywhere). A server-side dry run goes through both webhooks.
    probe = json.dumps(cronjob("admission-probe", "default", image))

    def admitted() -> bool:
        got = attempt(kubectl, "create", "--dry-run=server", "-f", "-", stdin=probe)
        assert got.ok, got.err
        return True

    eventually(admitted, timeout=90, interval=1, what="the API server to reach the operator's webhooks")


def scale(kubectl: Kubectl, replicas: int) -> None:
    kubectl.run("-n", SYSTEM_NS, "scale", "deployment/kubelab-operator", f"--replicas={replicas}")
    if replicas:
        kube.rollout(kubectl, "deployment/kubelab-operator", namespace=SYSTEM_NS, timeout=120)
    else:

        def gone() -> bool:  # terminating pods too: they serve webhooks until they exit
            pods = kubectl.json("-n", SYSTEM_NS, "get", "pods", "-l", "app=kubelab-operator")["items"]
            return not pods

        eventually(gone, timeout=60, interval=0.5, what="the operator's pods to be gone")


# -- objects -------------------------------------------------------------------------------


def cronjob(
    name: str, namespace: str, image: str, schedule: Any = "*/1 * * * *", *, seconds: int = 1,
    version: str = V1, **spec: Any,
) -> dict[str, Any]:  # fmt: skip
    """A CronJob whose Job runs ``sleep seconds`` in the lab image."""
    return {
        "apiVersion": version,
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "schedule": schedule,
            "jobTemplate": {
                "metadata": {"labels": {"kubelab.dev/cronjob": name}},
                "spec": {
                    "backoffLimit": 0,
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "terminationGracePeriodSeconds": 1,
                            "containers": [
                                {
                                    "name": "run",
                                    "image": image,
                                    "imagePullPolicy": "IfNotPresent",
                                    "command": ["python3", "-c", f"import time; time.sleep({seconds})"],
                                }
                            ],
                        }
                    },
                },
            },
            **spec,
        },
    }


@dataclass(frozen=True)
class Attempt:
    ok: bool
    out: str
    err: str


def attempt(kubectl: Kubectl, *args: str, stdin: str | None = None) -> Attempt:
    """kubectl that may be refused: the exit status and both streams, never raising."""
    proc = kubectl.attempt(*args, stdin=stdin, timeout=60)
    return Attempt(proc.returncode == 0, proc.stdout, proc.stderr.strip())


def create(kubectl: Kubectl, obj: dict[str, Any], *extra: str) -> Attempt:
    return attempt(kubectl, "create", "-f", "-", *extra, stdin=json.dumps(obj))


def webhook_post(kubectl: Kubectl, path: str, body: dict[str, Any]) -> Attempt:
    """POST ``body`` to the webhook Service through the API server's service proxy (as any client could)."""
    proxy = f"/api/v1/namespaces/{SYSTEM_NS}/services/https:{deployment.SERVICE}:443/proxy{path}"
    return attempt(kubectl, "create", "--raw", proxy, "-f", "-", stdin=json.dumps(body))


def get(kubectl: Kubectl, name: str, namespace: str, version: str = "v1") -> dict[str, Any] | None:
    got = attempt(kubectl, "-n", namespace, "get", f"cronjobs.{version}.batch.kubelab.dev", name, "-o", "json")
    return json.loads(got.out) if got.ok else None


def jobs_of(kubectl: Kubectl, namespace: str, cronjob: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = kubectl.json("-n", namespace, "get", "jobs", "-l", f"kubelab.dev/cronjob={cronjob}")[
        "items"
    ]
    return [j for j in items if "deletionTimestamp" not in j["metadata"]]


def scheduled_at(job: dict[str, Any]) -> str:
    return str(job["metadata"].get("annotations", {}).get(SCHEDULED_AT, ""))


def condition(obj: dict[str, Any], type_: str) -> tuple[str, str] | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c["type"] == type_:
            return c["status"], c["reason"]
    return None


def next_minute(lead: float) -> int:
    """The next full minute (unix time) at least ``lead`` seconds away: when a run made now is due."""
    now = time.time()
    due = (int(now) // 60 + 1) * 60
    return due if due - now >= lead else due + 60


def sleep_until(when: float) -> None:
    time.sleep(max(0.0, when - time.time()))


# -- the operator --------------------------------------------------------------------------


def operator_pods(kubectl: Kubectl) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = kubectl.json("-n", SYSTEM_NS, "get", "pods", "-l", "app=kubelab-operator")["items"]
    return [p for p in items if "deletionTimestamp" not in p["metadata"]]


def lease_holder(kubectl: Kubectl) -> str:
    lease = kubectl.json("-n", SYSTEM_NS, "get", "lease", deployment.LEASE)
    return str(lease["spec"].get("holderIdentity") or "")


def leader_pod(kubectl: Kubectl) -> str:
    """The pod holding the Lease (identity ``<hostname>_<pid>``; the hostname is the pod's name)."""
    holder = lease_holder(kubectl)
    return holder.rsplit("_", 1)[0]


Samples = list[Sample]


def scrape(kubectl: Kubectl, pod: str) -> Samples:
    """The pod's metrics through the API server's pod proxy, parsed by prometheus-client."""
    path = f"/api/v1/namespaces/{SYSTEM_NS}/pods/{pod}:{deployment.METRICS_PORT}/proxy/metrics"
    return [
        sample
        for family in text_string_to_metric_families(kubectl.run("get", "--raw", path))
        for sample in family.samples
    ]


def exposed(samples: Samples, sample_name: str) -> bool:
    return any(s.name == sample_name for s in samples)


def metric(samples: Samples, sample_name: str, /, **labels: str) -> float:
    """The sum of the samples called ``sample_name`` whose labels include ``labels``."""
    return sum(s.value for s in samples if s.name == sample_name and labels.items() <= s.labels.items())


def registry_data(kubectl: Kubectl) -> dict[str, str]:
    cm = kubectl.json("-n", SYSTEM_NS, "get", "configmap", deployment.REGISTRY_CONFIGMAP)
    return dict(cm.get("data") or {})


# -- storage versions ----------------------------------------------------------------------


def storage_versions(kubectl: Kubectl) -> tuple[str, list[str]]:
    """The CRD's storage version and its ``status.storedVersions``."""
    crd = kubectl.json("get", "crd", CRONJOB.name)
    storage = next(v["name"] for v in crd["spec"]["versions"] if v["storage"])
    return storage, list(crd["status"].get("storedVersions") or [])


def set_storage_version(kubectl: Kubectl, version: str) -> None:
    """Make ``version`` the CRD's storage version (a JSON patch of the live CRD: the injected caBundle stays)."""
    crd = kubectl.json("get", "crd", CRONJOB.name)
    patch = [
        {"op": "replace", "path": f"/spec/versions/{i}/storage", "value": v["name"] == version}
        for i, v in enumerate(crd["spec"]["versions"])
    ]
    kubectl.run("patch", "crd", CRONJOB.name, "--type=json", "-p", json.dumps(patch))


def migrate(kubectl: Kubectl, name: str, timeout: float = 120) -> dict[str, Any]:
    """A StorageVersionMigration of the CronJobs, run to its end; returns its final status."""
    svm = {
        "apiVersion": "storagemigration.k8s.io/v1",
        "kind": "StorageVersionMigration",
        "metadata": {"name": name},
        "spec": {"resource": {"group": CRONJOB.group, "resource": CRONJOB.plural}},
    }
    kubectl.run("delete", "storageversionmigration", name, "--ignore-not-found")
    kubectl.run("create", "-f", "-", stdin=json.dumps(svm))
    done: dict[str, Any] = {}

    def finished() -> bool:
        status = kubectl.json("get", "storageversionmigration", name).get("status") or {}
        ended = {c["type"]: c for c in status.get("conditions") or [] if c["status"] == "True"}
        done.update(status)
        return "Succeeded" in ended or "Failed" in ended

    eventually(finished, timeout=timeout, interval=1, what=f"StorageVersionMigration {name} to finish")
    kubectl.run("delete", "storageversionmigration", name)
    return done


def trim_stored_versions(kubectl: Kubectl, versions: list[str]) -> None:
    patch = {"status": {"storedVersions": versions}}
    kubectl.run("patch", "crd", CRONJOB.name, "--subresource=status", "--type=merge", "-p", json.dumps(patch))
