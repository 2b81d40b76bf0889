"""What the finalizer cleans up (book 3.3.2): a record of each CronJob that the operator keeps
*outside* it, one key per CronJob in a ConfigMap of the operator's namespace.

Both operations are idempotent: adding writes the same value again, removing a key that is
gone is a no-op (a JSON merge patch setting it to null), so a handler that runs twice, or
after a crash half-way, leaves the same result.
"""

from __future__ import annotations

import json
from typing import Any

from kubelab_client.errors import ApiError
from kubelab_client.kube import Api
from kubelab_client.resources import CONFIGMAPS
from kubelab_operator import deployment


def record_key(namespace: str, name: str) -> str:
    return f"{namespace}.{name}"  # both are DNS labels/subdomains: a valid ConfigMap key


def ensure_configmap(api: Api, namespace: str = deployment.NAMESPACE) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": deployment.REGISTRY_CONFIGMAP, "namespace": namespace},
        "data": {},
    }
    try:
        api.create(CONFIGMAPS, body, namespace)
    except ApiError as exc:
        if not exc.is_conflict:
            raise


def add(api: Api, cronjob: dict[str, Any], namespace: str = deployment.NAMESPACE) -> None:
    meta = cronjob["metadata"]
    value = json.dumps({"uid": meta.get("uid"), "schedule": cronjob.get("spec", {}).get("schedule")}, sort_keys=True)
    patch = {"data": {record_key(meta["namespace"], meta["name"]): value}}
    try:
        api.patch(CONFIGMAPS, deployment.REGISTRY_CONFIGMAP, patch, namespace)
    except ApiError as exc:
        if not exc.is_not_found:
            raise
        ensure_configmap(api, namespace)
        api.patch(CONFIGMAPS, deployment.REGISTRY_CONFIGMAP, patch, namespace)


def remove(api: Api, cronjob: dict[str, Any], namespace: str = deployment.NAMESPACE) -> None:
    meta = cronjob["metadata"]
    patch = {"data": {record_key(meta["namespace"], meta["name"]): None}}
    try:
        api.patch(CONFIGMAPS, deployment.REGISTRY_CONFIGMAP, patch, namespace)
    except ApiError as exc:
        if not exc.is_not_found:  # no ConfigMap at all: nothing to clean up
            raise
