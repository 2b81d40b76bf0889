"""The ``AuthorizationConfiguration`` kube-apiserver reads: Node, then the webhook (only for requests
its CEL match conditions select, failing open to "no opinion" when it is down), then RBAC."""

from __future__ import annotations

from typing import Any

# kube-apiserver's own, the nodes' and the administrators' requests never go to the webhook: a
# webhook that is down must not stop the control plane, nor lock out the people who repair it.
# kubeadm's admin.conf (kind's kubeconfig) is group kubeadm:cluster-admins, not system:masters
# (since 1.29; system:masters is only super-admin.conf's).
MATCH_CONDITIONS = [
    {"expression": "!('system:masters' in request.groups)"},
    {"expression": "!('kubeadm:cluster-admins' in request.groups)"},
    {"expression": "!request.user.startsWith('system:node:')"},
    {"expression": "!('system:serviceaccounts:kube-system' in request.groups)"},
    {"expression": "!(request.user in ['system:kube-controller-manager', 'system:kube-scheduler'])"},
]


def webhook_authorizer(
    kubeconfig: str, *, name: str = "kubelab", timeout: str = "3s", failure_policy: str = "NoOpinion"
) -> dict[str, Any]:
    return {
        "type": "Webhook",
        "name": name,
        "webhook": {
            "timeout": timeout,
            "subjectAccessReviewVersion": "v1",
            "matchConditionSubjectAccessReviewVersion": "v1",
            "failurePolicy": failure_policy,
            "authorizedTTL": "10s",
            "unauthorizedTTL": "10s",
            "cacheAuthorizedRequests": True,
            "cacheUnauthorizedRequests": True,
            "connectionInfo": {"type": "KubeConfigFile", "kubeConfigFile": kubeconfig},
            "matchConditions": MATCH_CONDITIONS,
        },
    }


def authorization_configuration(webhook: dict[str, Any] | None = None, *, rbac_only: bool = False) -> dict[str, Any]:
    """Node, the webhook (if any), RBAC; ``rbac_only`` drops Node (envtest has no nodes)."""
    authorizers: list[dict[str, Any]] = [] if rbac_only else [{"type": "Node", "name": "node"}]
    if webhook is not None:
        authorizers.append(webhook)
    authorizers.append({"type": "RBAC", "name": "rbac"})
    return {
        "apiVersion": "apiserver.config.k8s.io/v1",
        "kind": "AuthorizationConfiguration",
        "authorizers": authorizers,
    }
