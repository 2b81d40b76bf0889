"""The typed client: the official ``kubernetes`` package's generated API classes and models.

The one other module (with :mod:`kubelab_client.kube`) that touches that package, on
purpose: chapter 2.5 compares it with the dynamic and REST clients. Its calls take and
return generated models (``V1ConfigMap``, ``V1PodList``...), checked by attribute names
instead of dict keys, and raise ``kubernetes.client.ApiException`` (turned into our
:class:`~kubelab_client.errors.ApiError` here).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from kubelab_client.errors import ApiError
from kubelab_client.kube import Api

R = TypeVar("R")


def core_v1(api: Api) -> k8s.CoreV1Api:
    """``CoreV1Api`` on the same ``ApiClient`` (same config, auth and connection pool) as ``api``."""
    return k8s.CoreV1Api(api.api_client)


def call(fn: Callable[[], R]) -> R:
    """Run a typed call; its ``ApiException`` becomes an :class:`ApiError` with the server's Status."""
    try:
        return fn()
    except ApiException as exc:
        try:
            body = json.loads(exc.body) if exc.body else None
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("kind") == "Status":
            raise ApiError.from_status(body, http_status=int(exc.status or 0)) from exc
        raise ApiError(int(exc.status or 0), str(exc.reason or "")) from exc


def pod_names(api: Api, namespace: str | None = None) -> list[str]:
    """Pod names, through ``CoreV1Api.list_(namespaced_)pod`` and the ``V1PodList`` model."""
    v1 = core_v1(api)
    if namespace:
        pods = call(lambda: v1.list_namespaced_pod(namespace))
    else:
        pods = call(lambda: v1.list_pod_for_all_namespaces())
    return [f"{p.metadata.namespace}/{p.metadata.name}" for p in pods.items if p.metadata]


def create_config_map(api: Api, namespace: str, name: str, data: dict[str, str]) -> k8s.V1ConfigMap:
    body = k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=name, namespace=namespace), data=data)
    v1 = core_v1(api)
    result: k8s.V1ConfigMap = call(lambda: v1.create_namespaced_config_map(namespace, body))
    return result


def read_config_map(api: Api, namespace: str, name: str) -> k8s.V1ConfigMap:
    v1 = core_v1(api)
    result: k8s.V1ConfigMap = call(lambda: v1.read_namespaced_config_map(name, namespace))
    return result
