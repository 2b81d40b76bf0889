"""Builders for the objects checkpoints write inline: namespaces, RBAC, ServiceAccounts, Services, ConfigMaps.

Each returns a plain dict for :func:`kubelab_labkit.kube.apply`. Defaults are the least a
checkpoint needs; pass more through keyword arguments where the builder takes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

RBAC = "rbac.authorization.k8s.io/v1"
Obj = dict[str, Any]


def _meta(name: str, namespace: str | None = None, labels: Mapping[str, str] | None = None) -> Obj:
    meta: Obj = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    return meta


def namespace(name: str, labels: Mapping[str, str] | None = None) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(name, labels=labels)}


def service_account(name: str, namespace: str) -> Obj:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, namespace)}


def rule(api_groups: Sequence[str], resources: Sequence[str], verbs: Sequence[str]) -> Obj:
    """One policy rule; ``""`` is the core group."""
    return {"apiGroups": list(api_groups), "resources": list(resources), "verbs": list(verbs)}


def role(name: str, namespace: str, rules: Sequence[Obj]) -> Obj:
    return {"apiVersion": RBAC, "kind": "Role", "metadata": _meta(name, namespace), "rules": list(rules)}


def cluster_role(name: str, rules: Sequence[Obj]) -> Obj:
    return {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": _meta(name), "rules": list(rules)}


def subject(kind: str, name: str, namespace: str | None = None) -> Obj:
    """A binding's subject: ``ServiceAccount`` (with namespace), ``User`` or ``Group``."""
    out: Obj = {"kind": kind, "name": name}
    if kind == "ServiceAccount":
        out["namespace"] = namespace
    else:
        out["apiGroup"] = "rbac.authorization.k8s.io"
    return out


def role_binding(
    name: str, namespace: str, role_name: str, subjects: Sequence[Obj], *, cluster_role: bool = False
) -> Obj:
    """A RoleBinding in ``namespace`` to a Role (or, with ``cluster_role``, a ClusterRole)."""
    ref = {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole" if cluster_role else "Role",
        "name": role_name,
    }
    return {
        "apiVersion": RBAC,
        "kind": "RoleBinding",
        "metadata": _meta(name, namespace),
        "roleRef": ref,
        "subjects": list(subjects),
    }


def cluster_role_binding(name: str, cluster_role_name: str, subjects: Sequence[Obj]) -> Obj:
    return {
        "apiVersion": RBAC,
        "kind": "ClusterRoleBinding",
        "metadata": _meta(name),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role_name},
        "subjects": list(subjects),
    }


def service(name: str, namespace: str, selector: Mapping[str, str], ports: Sequence[tuple[int, int]]) -> Obj:
    """A ClusterIP Service; ``ports`` are ``(port, targetPort)`` pairs."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name, namespace),
        "spec": {"selector": dict(selector), "ports": [{"port": p, "targetPort": t} for p, t in ports]},
    }


def config_map(name: str, namespace: str, data: Mapping[str, str], labels: Mapping[str, str] | None = None) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(name, namespace, labels), "data": dict(data)}
