"""Checkpoint 4 (book 7.3; its admission plugin as the book's 3.3.3 adds one): one pair of admission
rules enforced three ways by the cluster's kube-apiserver: the KubelabOwner plugin compiled into
a kube-apiserver built from patched source, the admission webhooks, and a MutatingAdmissionPolicy
with a ValidatingAdmissionPolicy. The same results, each way's latency side by side, and what
each does when the webhooks are down."""

from __future__ import annotations

import time
from typing import Any

from kubelab_apiserver.admission import rules
from kubelab_client.errors import ApiError
from kubelab_client.kube import Api
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.pins import pins
from kubelab_kit.stats import percentile
from kubelab_labkit import static_pods
from kubelab_labkit.waiting import eventually

from .admissionlab import COMPONENT, NS, PLUGIN, Admission
from .webhooklab import NS as WEBHOOKS_NS

SAMPLES = 20


def configmap(name: str, way: str, data: dict[str, str] | None = None) -> dict[str, Any]:
    meta = {"name": name, "labels": {rules.BY_LABEL: way}}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {"greeting": "hello"}}


def create(api: Api, obj: dict[str, Any]) -> dict[str, Any]:
    made: dict[str, Any] = api.request("POST", f"/api/v1/namespaces/{NS}/configmaps", body=obj)
    return made


def refusal(api: Api, obj: dict[str, Any]) -> ApiError:
    try:
        create(api, obj)
    except ApiError as exc:
        return exc
    raise AssertionError(f"{obj['metadata']['name']} was admitted")


def test_04_one_rule_three_ways(kubectl: Kubectl, admission: Admission) -> None:
    """kube-apiserver reports the lab's version suffix and runs with --enable-admission-plugins naming
    KubelabOwner. For each way (label admission.kubelab.dev/by = plugin, webhook, policy): a new
    ConfigMap's owner annotation is its creator's name; a key naming a password is refused with 403
    and the same sentence, and nothing is stored. With the webhooks scaled to zero, the webhook's
    ConfigMaps are refused (failurePolicy Fail) while the plugin's and the policies' go on.

    Hint (7.3): kube-apiserver-plugin/owner/admission.go and patch.toml (the plugin and where the toolchain
    registers it), kubelab_apiserver/admission/ (rules.py, webhook.py, registrations.py: the CEL);
    `kubectl -n kube-system logs kube-apiserver-kubelab-control-plane | grep -i admission`.
    """
    assert admission.version == f"{pins().kubernetes.version}-kubelab"
    manifest = static_pods.read(admission.node, COMPONENT)
    command = static_pods.container(manifest, COMPONENT)["command"]
    assert PLUGIN in (static_pods.flag_value(command, "enable-admission-plugins") or "").split(",")
    api = Api.from_config(str(kubectl.kubeconfig))
    who = api.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                      body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})  # fmt: skip
    me = who["status"]["userInfo"]["username"]

    results: dict[str, tuple[str, int, str]] = {}
    for way in rules.WAYS:
        made = create(api, configmap(f"owned-{way}", way))
        refused = refusal(api, configmap(f"secret-{way}", way, {"user": "app", "DB_Password": "hunter2"}))
        results[way] = (
            made["metadata"]["annotations"].get(rules.OWNER_ANNOTATION, ""),
            refused.status,
            refused.message,
        )
        assert refused.status == 403 and rules.denial("DB_Password") in refused.message, (way, refused)
        gone = kubectl.attempt("-n", NS, "get", "configmap", f"secret-{way}")
        assert gone.returncode != 0 and "NotFound" in gone.stderr, f"{way}: a refused ConfigMap was stored"
    assert {owner for owner, _, _ in results.values()} == {me}, results

    latency = {way: _p50_create_ms(api, way) for way in rules.WAYS}
    print("\np50 of", SAMPLES, "ConfigMap creates through kube-apiserver:",
          ", ".join(f"{way} {ms:.1f} ms" for way, ms in latency.items()))  # fmt: skip

    kubectl.run("-n", WEBHOOKS_NS, "scale", "deployment/kubelab-webhooks", "--replicas=0")
    kubectl.run("-n", WEBHOOKS_NS, "wait", "--for=delete", "pod", "-l", "app=kubelab-webhooks", "--timeout=90s")
    try:
        down = refusal(api, configmap("while-down-webhook", "webhook"))
        assert down.status == 500 and "failed calling webhook" in down.message, down
        for way in ("plugin", "policy"):
            assert create(api, configmap(f"while-down-{way}", way))["metadata"]["annotations"]
    finally:
        kubectl.run("-n", WEBHOOKS_NS, "scale", "deployment/kubelab-webhooks", "--replicas=1")
        kubectl.run("-n", WEBHOOKS_NS, "rollout", "status", "deployment/kubelab-webhooks", "--timeout=120s")
    eventually(lambda: _admitted(api, configmap("back-webhook", "webhook")), timeout=60, what="the webhooks back")


def _admitted(api: Api, obj: dict[str, Any]) -> bool:
    try:
        return bool(create(api, obj))
    except ApiError as exc:
        raise AssertionError(exc) from exc


def _p50_create_ms(api: Api, way: str) -> float:
    times = []
    for i in range(SAMPLES):
        started = time.perf_counter()
        create(api, configmap(f"timed-{way}-{i}", way))
        times.append((time.perf_counter() - started) * 1000)
    return percentile(times, 50)
