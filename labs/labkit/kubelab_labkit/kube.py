"""Applying, deleting and waiting for objects: one signature each, used by every lab.

Objects are dicts (built by :mod:`kubelab_labkit.objects`, or loaded) or manifest text
(YAML or JSON, several documents allowed); they go to ``kubectl`` as one request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl

Obj = Mapping[str, Any] | str


def _payload(objects: tuple[Obj, ...]) -> str:
    texts = [o for o in objects if isinstance(o, str)]
    dicts = [dict(o) for o in objects if not isinstance(o, str)]
    parts = [*texts]
    if dicts:
        parts.append(json.dumps({"apiVersion": "v1", "kind": "List", "items": dicts}))
    return "\n---\n".join(parts)


def apply(kubectl: Kubectl, *objects: Obj, server_side: bool = False) -> str:
    """``kubectl apply`` the objects (client-side by default; ``server_side`` forces field ownership)."""
    if not objects:
        return ""
    args = ["apply", "-f", "-"]
    if server_side:
        args += ["--server-side", "--force-conflicts", "--field-manager=kubelab-lab"]
    return kubectl.run(*args, stdin=_payload(objects))


def delete(kubectl: Kubectl, *objects: Obj, wait: bool = True, timeout: float = 120) -> str:
    """Delete the objects if they exist (``--ignore-not-found``); ``wait`` until they are gone."""
    if not objects:
        return ""
    return kubectl.run(
        "delete", "-f", "-", "--ignore-not-found", f"--wait={str(wait).lower()}", f"--timeout={int(timeout)}s",
        stdin=_payload(objects), timeout=timeout + 15,
    )  # fmt: skip


def wait_for(
    kubectl: Kubectl, resource: str, condition: str, *, namespace: str | None = None, timeout: float = 120
) -> str:
    """``kubectl wait --for=<condition> <resource>``, e.g. ``("pod/web", "condition=Ready")``,
    ``("crd/x.y", "condition=Established")``, ``("pod/job-x", "jsonpath={.status.phase}=Succeeded")``."""
    ns = ["-n", namespace] if namespace else []
    return kubectl.run(*ns, "wait", f"--for={condition}", resource, f"--timeout={int(timeout)}s", timeout=timeout + 15)


def rollout(kubectl: Kubectl, resource: str, *, namespace: str, timeout: float = 150, check: bool = True) -> str:
    """``kubectl rollout status`` of a Deployment or DaemonSet, e.g. ``"daemonset/kubelab-cni-agent"``."""
    return kubectl.run(
        "-n", namespace, "rollout", "status", resource, f"--timeout={int(timeout)}s", timeout=timeout + 10, check=check
    )


def events(kubectl: Kubectl, namespace: str, name: str) -> str:
    """The events of one object (reason and message), for failure messages."""
    return kubectl.run(
        "-n", namespace, "get", "events", "--field-selector", f"involvedObject.name={name}",
        "-o", "custom-columns=REASON:.reason,MESSAGE:.message", check=False,
    )  # fmt: skip
