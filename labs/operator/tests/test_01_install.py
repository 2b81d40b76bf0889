"""Checkpoints 1-2 (book 3.3.1, 3.3.4, 3.3.5): the generated CRD is accepted, the operator runs."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.waiting import eventually
from kubelab_operator.api.resource import CRONJOB
from kubelab_operator.crdgen.crd import crd

from .operatorlab import lease_holder, operator_pods


def test_01_crd_established(kubectl: Kubectl, operator: str) -> None:
    """The API server accepted the generated CRD: Established, names accepted, both versions served,
    v1 the storage version, and the schema it serves is the generator's.

    Hint (3.3.1): `kubectl get crd cronjobs.batch.kubelab.dev -o yaml` (status.conditions say why it
    is not Established: NonStructuralSchema, NamesAccepted...); `uv run nox -s generate` rewrites it.
    """
    got = kubectl.json("get", "crd", CRONJOB.name)
    conditions = {c["type"]: c["status"] for c in got["status"]["conditions"]}
    assert conditions.get("Established") == "True" and conditions.get("NamesAccepted") == "True", conditions
    assert "NonStructuralSchema" not in conditions, got["status"]["conditions"]
    assert got["status"]["acceptedNames"]["shortNames"] == ["kcj"]
    assert got["status"]["storedVersions"] == ["v1"]
    served = {v["name"]: (v["served"], v["storage"]) for v in got["spec"]["versions"]}
    assert served == {"v1": (True, True), "v2": (True, False)}
    want = {v["name"]: v["schema"] for v in crd(CRONJOB)["spec"]["versions"]}
    assert {v["name"]: v["schema"] for v in got["spec"]["versions"]} == want


def test_02_two_replicas_one_leader(kubectl: Kubectl, operator: str) -> None:
    """Two operator pods are Ready (both serve webhooks); the Lease names one of them as leader.

    Hint (3.3.5): `kubectl -n kubelab-operator-system get pods,lease`; a pod that is not Ready fails
    its /readyz (the webhook server is not listening: no certificates yet? see its log).
    """
    pods = operator_pods(kubectl)
    ready = [
        p["metadata"]["name"] for p in pods if all(s.get("ready") for s in p["status"].get("containerStatuses", []))
    ]
    assert len(ready) == 2, [p["metadata"]["name"] for p in pods]

    def held_by_a_ready_pod() -> str:
        holder = lease_holder(kubectl)  # after a redeploy, an old pod's Lease expires within 10 s
        assert holder.rsplit("_", 1)[0] in ready, f"Lease holder {holder!r}, Ready pods {ready}"
        return holder

    eventually(held_by_a_ready_pod, timeout=25, interval=1, what="a Ready pod to lead")
