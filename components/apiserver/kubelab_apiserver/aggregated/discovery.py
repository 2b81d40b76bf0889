"""Discovery documents: what kubectl and the aggregator read to learn the group exists.

* ``/apis``: the ``APIGroupList`` or, when asked for ``apidiscovery.k8s.io/v2``, the aggregated
  ``APIGroupDiscoveryList`` (every resource of every version in one document, which is what
  kube-apiserver's aggregator fetches from an aggregated server).
* ``/apis/<group>``: the ``APIGroup``; ``/apis/<group>/<version>``: the ``APIResourceList``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import Any

from kubelab_apiserver.aggregated.resources import STATUS_VERBS, VERBS, ResourceType


def storage_version_hash(resource: ResourceType) -> str:
    digest = hashlib.sha256(f"{resource.group}/{resource.version}/{resource.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def _versions(resources: Sequence[ResourceType]) -> list[dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    for r in resources:
        seen.setdefault(r.group_version, {"groupVersion": r.group_version, "version": r.version})
    return list(seen.values())


def api_group(group: str, resources: Sequence[ResourceType]) -> dict[str, Any]:
    versions = _versions([r for r in resources if r.group == group])
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": versions,
        "preferredVersion": versions[0],
    }


def api_group_list(resources: Sequence[ResourceType]) -> dict[str, Any]:
    groups = sorted({r.group for r in resources})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [api_group(g, resources) for g in groups]}


def api_resource_list(group_version: str, resources: Sequence[ResourceType]) -> dict[str, Any]:
    found: list[dict[str, Any]] = []
    for r in (r for r in resources if r.group_version == group_version):
        entry: dict[str, Any] = {
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": VERBS,
            "storageVersionHash": storage_version_hash(r),
        }
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        found.append(entry)
        if r.status is not None:
            found.append(
                {
                    "name": f"{r.plural}/status",
                    "singularName": "",
                    "namespaced": r.namespaced,
                    "kind": r.kind,
                    "verbs": STATUS_VERBS,
                }
            )
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": found}


def aggregated(resources: Sequence[ResourceType], version: str = "v2") -> dict[str, Any]:
    items = []
    for group in sorted({r.group for r in resources}):
        versions = []
        for gv in _versions([r for r in resources if r.group == group]):
            entries = []
            for r in (r for r in resources if r.group_version == gv["groupVersion"]):
                kind = {"group": r.group, "version": r.version, "kind": r.kind}
                entry: dict[str, Any] = {
                    "resource": r.plural,
                    "responseKind": kind,
                    "scope": r.scope,
                    "singularResource": r.singular,
                    "verbs": VERBS,
                }
                if r.short_names:
                    entry["shortNames"] = list(r.short_names)
                if r.categories:
                    entry["categories"] = list(r.categories)
                if r.status is not None:
                    entry["subresources"] = [{"subresource": "status", "responseKind": kind, "verbs": STATUS_VERBS}]
                entries.append(entry)
            versions.append({"version": gv["version"], "resources": entries, "freshness": "Current"})
        items.append({"metadata": {"name": group}, "versions": versions})
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"apidiscovery.k8s.io/{version}",
        "metadata": {},
        "items": items,
    }
