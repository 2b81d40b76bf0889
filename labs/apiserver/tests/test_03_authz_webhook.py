"""Checkpoint 3 (book 7.2): a SubjectAccessReview webhook between Node and RBAC in kube-apiserver's
AuthorizationConfiguration: it allows, denies, or says nothing and RBAC decides; when it is down
the cluster keeps working."""

from __future__ import annotations

import json

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube
from kubelab_labkit.namespaces import MakeNamespace
from kubelab_labkit.waiting import eventually

from .webhooklab import NS, Webhooks

BINDING = "kubelab-apiserver-lab-carol"


def test_03_allow_deny_no_opinion_and_down(kubectl: Kubectl, webhooks: Webhooks, make_namespace: MakeNamespace) -> None:
    """An auditor (group kubelab:auditors, no RBAC at all) may list pods but not Secrets (no opinion: RBAC
    says no); a cluster-admin by RBAC may not delete the protected namespace (the webhook denies first) but
    may delete another; with the webhook scaled to zero, RBAC alone decides (failurePolicy NoOpinion).
    The cluster's administrators (kubeadm:cluster-admins, system:masters) are never sent to the webhook:
    the admin creates and removes the protected namespace, and still works while the webhook is down.

    Hint (7.2): kubelab_apiserver/authz/policy.py (the rules and their order) and authz/configuration.py
    (matchConditions keep kube-apiserver's own and the nodes' requests away from the webhook).
    """
    protected = make_namespace("kubelab-protected")
    other = make_namespace("kubelab-apiserver-lab-deletable")
    auditor = webhooks.jwt("audrey", groups=["auditors"])
    assert webhooks.call(auditor, path=f"/api/v1/namespaces/{other}/pods")[0] == 200, "the webhook allows"
    code, body = webhooks.call(auditor, path=f"/api/v1/namespaces/{other}/secrets")
    assert code == 403, f"no opinion, then RBAC: {code} {body}"

    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": BINDING},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "kubelab:carol"}],
    }
    kube.apply(kubectl, binding)
    try:
        carol = webhooks.jwt("carol")
        eventually(
            lambda: webhooks.call(carol, path=f"/api/v1/namespaces/{other}/secrets")[0] == 200,
            timeout=30,
            what="RBAC's cluster-admin for kubelab:carol",
        )
        code, body = webhooks.call(carol, "DELETE", f"/api/v1/namespaces/{protected}")
        assert code == 403 and "protected" in json.dumps(body), f"the webhook's deny before RBAC: {code} {body}"
        assert webhooks.call(carol, "DELETE", f"/api/v1/namespaces/{other}")[0] == 200

        kubectl.run("-n", NS, "scale", "deployment/kubelab-webhooks", "--replicas=0")
        kubectl.run("-n", NS, "wait", "--for=delete", "pod", "-l", "app=kubelab-webhooks", "--timeout=90s")
        try:
            eventually(
                lambda: webhooks.call(auditor, path=f"/api/v1/namespaces/{protected}/pods")[0] != 200,
                timeout=40,
                what="the webhook's cached allow expiring (10 s)",
            )
            assert webhooks.call(carol, path=f"/api/v1/namespaces/{protected}/configmaps")[0] == 200, "RBAC alone"
            kubectl.run("get", "namespaces")  # the admin (kubeadm:cluster-admins) is never sent to the webhook
        finally:
            kubectl.run("-n", NS, "scale", "deployment/kubelab-webhooks", "--replicas=1")
            kube.rollout(kubectl, "deployment/kubelab-webhooks", namespace=NS, timeout=120)
    finally:
        kube.delete(kubectl, binding)
