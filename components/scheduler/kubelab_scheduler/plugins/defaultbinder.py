"""DefaultBinder: ``POST pods/{name}/binding`` with the pod's UID as precondition, as kube-scheduler.

The API server refuses a bind of a pod that is already on a node, being deleted, or a new pod
of the same name (the UID differs): 409 Conflict, never a second placement.
"""

from __future__ import annotations

from typing import Any

from kubelab_client.errors import ApiError, ClientError
from kubelab_client.resources import PODS
from kubelab_scheduler import pods
from kubelab_scheduler.framework.interface import CycleState, Pod
from kubelab_scheduler.framework.runtime import Handle
from kubelab_scheduler.framework.status import Status


def binding(pod: Pod, node: str) -> dict[str, Any]:
    meta = pod.get("metadata") or {}
    return {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": meta.get("name"), "namespace": meta.get("namespace"), "uid": meta.get("uid")},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    }


class DefaultBinder:
    name = "DefaultBinder"

    def __init__(self, args: dict[str, Any], handle: Handle) -> None:
        self.handle = handle

    def bind(self, state: CycleState, pod: Pod, node: str) -> Status:
        meta = pod.get("metadata") or {}
        path = PODS.object_path(str(meta.get("name")), str(meta.get("namespace"))) + "/binding"
        try:
            self.handle.api.request("POST", path, body=binding(pod, node))
        except ApiError as exc:
            return Status.error(f"binding {pods.key(pod)} to {node}: {exc.status} {exc.reason}: {exc.message}")
        except ClientError as exc:
            return Status.error(f"binding {pods.key(pod)} to {node}: {exc}")
        return Status()
