"""What the API server wrote to etcd: the stored bytes behind an object, for checkpoints that
must see storage itself (the version an object is stored at, an encryption provider's prefix)
rather than the API's view of it.

``etcdctl`` runs inside the control-plane's etcd container (``crictl exec``) with the
health-check client certificate kubeadm makes, so nothing is installed or exposed for it.
"""

from __future__ import annotations

import json
from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.nodes import node_run, nodes

PKI = "/etc/kubernetes/pki/etcd"
ENDPOINT = "https://127.0.0.1:2379"


def _control_plane(kubectl: Kubectl) -> str:
    found = sorted(n.name for n in nodes(kubectl).values() if n.role == "control-plane")
    assert found, "the cluster has no control-plane node"
    return found[0]


def get(kubectl: Kubectl, key: str) -> str:
    """The value stored at ``key`` (text; "" when the key does not exist)."""
    node = _control_plane(kubectl)
    container = node_run(node, "crictl", "ps", "--name", "^etcd$", "-q").split()
    assert container, f"no running etcd container on {node} (`docker exec {node} crictl ps --name etcd`)"
    return node_run(
        node, "crictl", "exec", container[0], "etcdctl", f"--endpoints={ENDPOINT}", f"--cacert={PKI}/ca.crt",
        f"--cert={PKI}/healthcheck-client.crt", f"--key={PKI}/healthcheck-client.key",
        "get", key, "--print-value-only",
    )  # fmt: skip


def custom_object_key(group: str, resource: str, namespace: str, name: str) -> str:
    """Where a namespaced custom resource lives: ``/registry/<group>/<resource>/<namespace>/<name>``."""
    return f"/registry/{group}/{resource}/{namespace}/{name}"


def stored_custom_object(kubectl: Kubectl, group: str, resource: str, namespace: str, name: str) -> dict[str, Any]:
    """A custom resource as stored (JSON, at the storage version it was last written with)."""
    text = get(kubectl, custom_object_key(group, resource, namespace, name)).strip()
    assert text, f"{group}/{resource} {namespace}/{name} is not in etcd"
    found: dict[str, Any] = json.loads(text)
    return found
