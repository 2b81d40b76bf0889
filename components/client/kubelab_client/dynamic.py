"""The dynamic client (client-go ``dynamic.Interface``): any resource, known at run time, as JSON dicts.

Where the typed client needs generated classes per kind, the dynamic one needs only the
resource's group, version and plural, which discovery (``/apis/GROUP/VERSION``) supplies:
so it reaches custom resources the moment their CRD is established, with no code generated.

    client = DynamicClient(api)
    widgets = client.resource("widgets.kubelab.dev").namespace("demo")
    widgets.create({"apiVersion": "kubelab.dev/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {}})
    widgets.apply(obj, field_manager="me")         # server-side apply
"""

from __future__ import annotations

from typing import Any

from kubelab_client.kube import Api
from kubelab_client.objects import KubeObject
from kubelab_client.resources import Resource


class ResourceClient:
    """One resource, optionally bound to a namespace (client-go ``NamespaceableResourceInterface``)."""

    def __init__(self, api: Api, resource: Resource, namespace: str | None = None) -> None:
        self.api = api
        self.resource = resource
        self.ns = namespace

    def namespace(self, namespace: str) -> ResourceClient:
        return ResourceClient(self.api, self.resource, namespace)

    def get(self, name: str) -> KubeObject:
        return self.api.get(self.resource, name, self.ns)

    def list(self, label_selector: str | None = None, field_selector: str | None = None) -> KubeObject:
        return self.api.request(
            "GET",
            self.resource.collection_path(self.ns),
            {"labelSelector": label_selector, "fieldSelector": field_selector},
        )

    def create(self, obj: KubeObject) -> KubeObject:
        return self.api.create(self.resource, obj, self.ns)

    def update(self, obj: KubeObject) -> KubeObject:
        return self.api.replace(self.resource, obj)

    def update_status(self, obj: KubeObject) -> KubeObject:
        meta = obj.get("metadata", {})
        return self.api.request("PUT", self.resource.object_path(meta["name"], self.ns) + "/status", body=obj)

    def patch(self, name: str, patch: Any, patch_type: str = "merge", field_manager: str | None = None) -> KubeObject:
        return self.api.patch(self.resource, name, patch, self.ns, patch_type=patch_type, field_manager=field_manager)

    def apply(self, obj: KubeObject, *, field_manager: str, force: bool = False) -> KubeObject:
        if self.ns:
            obj = {**obj, "metadata": {**obj.get("metadata", {}), "namespace": self.ns}}
        return self.api.apply(self.resource, obj, field_manager=field_manager, force=force)

    def delete(self, name: str) -> KubeObject:
        return self.api.delete(self.resource, name, self.ns)


class DynamicClient:
    def __init__(self, api: Api) -> None:
        self.api = api
        self._cache: dict[str, Resource] = {}

    def resource(self, spec: str | Resource) -> ResourceClient:
        """``widgets.kubelab.dev``, ``kubelab.dev/v1/widgets``, ``configmaps``, or a :class:`Resource`."""
        if isinstance(spec, Resource):
            return ResourceClient(self.api, spec)
        if spec not in self._cache:
            self._cache[spec] = self.api.discover(spec)
        return ResourceClient(self.api, self._cache[spec])

    def invalidate(self) -> None:
        """Forget discovered resources (after a CRD was added or removed)."""
        self._cache.clear()
