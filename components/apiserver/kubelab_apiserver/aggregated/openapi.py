"""OpenAPI for the group: v3 (``/openapi/v3`` lists one document per group-version; kubectl
explain and server-side apply clients read it) and v2 (``/openapi/v2``, which the aggregator merges
into the cluster's). Spec and status schemas come from the resource's pydantic models; every
object schema carries ``x-kubernetes-group-version-kind`` so clients map kinds to schemas.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from kubelab_apiserver.aggregated.resources import ResourceType

META = "io.k8s.apimachinery.pkg.apis.meta.v1"
OBJECT_META: dict[str, Any] = {
    "type": "object",
    "description": "Standard object's metadata.",
    "properties": {
        "name": {"type": "string"},
        "generateName": {"type": "string"},
        "namespace": {"type": "string"},
        "uid": {"type": "string"},
        "resourceVersion": {"type": "string"},
        "generation": {"type": "integer", "format": "int64"},
        "creationTimestamp": {"type": "string", "format": "date-time"},
        "deletionTimestamp": {"type": "string", "format": "date-time"},
        "deletionGracePeriodSeconds": {"type": "integer", "format": "int64"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "finalizers": {"type": "array", "items": {"type": "string"}},
        "ownerReferences": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
        "managedFields": {"type": "array", "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
    },
}
LIST_META: dict[str, Any] = {
    "type": "object",
    "properties": {
        "resourceVersion": {"type": "string"},
        "continue": {"type": "string"},
        "remainingItemCount": {"type": "integer", "format": "int64"},
    },
}


def schema_name(resource: ResourceType, kind: str | None = None) -> str:
    """Reverse-DNS, as kube-apiserver names its schemas: ``dev.kubelab.books.v1alpha1.Book``."""
    return ".".join([*reversed(resource.group.split(".")), resource.version, kind or resource.kind])


def _rewrite(node: Any, prefix: str, ref_base: str, properties: bool = False) -> Any:
    """pydantic's schema as OpenAPI wants it: references into ``ref_base``, no ``title`` annotations."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "title" and not properties:
                continue
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                out[key] = ref_base + prefix + value.removeprefix("#/$defs/")
            else:
                out[key] = _rewrite(value, prefix, ref_base, key == "properties" and not properties)
        return out
    if isinstance(node, list):
        return [_rewrite(v, prefix, ref_base) for v in node]
    return node


def schemas(resources: Sequence[ResourceType], ref_base: str) -> dict[str, Any]:
    """Every schema of ``resources``; references point at ``ref_base`` (``#/components/schemas/``)."""
    out: dict[str, Any] = {f"{META}.ObjectMeta": OBJECT_META, f"{META}.ListMeta": LIST_META}
    for r in resources:
        prefix = schema_name(r).removesuffix(r.kind)  # dev.kubelab.books.v1alpha1.
        parts: dict[str, Any] = {}
        for part, model in (("spec", r.spec), ("status", r.status)):
            if model is None:
                continue
            raw = model.model_json_schema(ref_template="#/$defs/{model}")
            for name, sub in raw.pop("$defs", {}).items():
                out[prefix + name] = _rewrite(sub, prefix, ref_base)
            schema = out[prefix + model.__name__] = _rewrite(raw, prefix, ref_base)
            for path, key in r.merge_keys.items():
                where, _, field = path.partition(".")
                if where == part and field in schema.get("properties", {}):
                    schema["properties"][field].update(
                        {
                            "x-kubernetes-patch-merge-key": key,
                            "x-kubernetes-patch-strategy": "merge",
                            "x-kubernetes-list-type": "atomic",
                        }
                    )
            parts[part] = {"$ref": ref_base + prefix + model.__name__}
        gvk = [{"group": r.group, "version": r.version, "kind": r.kind}]
        out[schema_name(r)] = {
            "type": "object",
            "description": r.description,
            "x-kubernetes-group-version-kind": gvk,
            "properties": {
                "apiVersion": {"type": "string", "description": "APIVersion defines the versioned schema."},
                "kind": {"type": "string", "description": "Kind is a string value representing the REST resource."},
                "metadata": {"$ref": f"{ref_base}{META}.ObjectMeta"},
                **parts,
            },
        }
        out[schema_name(r, r.list_kind)] = {
            "type": "object",
            "required": ["items"],
            "x-kubernetes-group-version-kind": [{**gvk[0], "kind": r.list_kind}],
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {"$ref": f"{ref_base}{META}.ListMeta"},
                "items": {"type": "array", "items": {"$ref": ref_base + schema_name(r)}},
            },
        }
    return out


WRITE_PARAMETERS = [
    ("dryRun", "When present (All), modifications are checked but not persisted."),
    ("fieldManager", "The name of the actor making these changes."),
    ("fieldValidation", "Unknown fields: Ignore, Warn (the default) or Strict (400)."),
]


def _parameters(v3: bool, *, force: bool = False) -> list[dict[str, Any]]:
    found = [(n, d) for n, d in WRITE_PARAMETERS] + ([("force", "Apply: take fields others own.")] if force else [])
    kind = {"schema": {"type": "string"}} if v3 else {"type": "string"}
    return [{"name": n, "in": "query", "description": d, "uniqueItems": True, **kind} for n, d in found]


def _paths(resources: Sequence[ResourceType], ref: str, v3: bool) -> dict[str, Any]:
    def answer(schema: str) -> dict[str, Any]:
        target = {"$ref": ref + schema}
        if v3:
            return {"200": {"description": "OK", "content": {"application/json": {"schema": target}}}}
        return {"200": {"description": "OK", "schema": target}}

    paths: dict[str, Any] = {}
    for r in resources:
        base = f"/apis/{r.group_version}" + ("/namespaces/{namespace}" if r.namespaced else "")
        gvk = {"group": r.group, "version": r.version, "kind": r.kind}
        common = {"x-kubernetes-group-version-kind": gvk}
        paths[f"{base}/{r.plural}"] = {
            "get": {
                "operationId": f"list{r.kind}",
                "x-kubernetes-action": "list",
                **common,
                "responses": answer(schema_name(r, r.list_kind)),
            },
            "post": {
                "operationId": f"create{r.kind}",
                "x-kubernetes-action": "post",
                **common,
                "parameters": _parameters(v3),
                "responses": answer(schema_name(r)),
            },
            "delete": {
                "operationId": f"deleteCollection{r.kind}",
                "x-kubernetes-action": "deletecollection",
                **common,
                "responses": answer(schema_name(r, r.list_kind)),
            },
        }
        item: dict[str, Any] = {
            verb: {
                "operationId": f"{verb}{r.kind}",
                "x-kubernetes-action": action,
                **common,
                "responses": answer(schema_name(r)),
            }
            for verb, action in (("get", "get"), ("put", "put"), ("patch", "patch"), ("delete", "delete"))
        }
        item["put"]["parameters"] = _parameters(v3)
        item["patch"]["parameters"] = _parameters(v3, force=True)
        paths[f"{base}/{r.plural}/{{name}}"] = item
        if r.status is not None:
            paths[f"{base}/{r.plural}/{{name}}/status"] = {k: v for k, v in item.items() if k != "delete"}
    return paths


def v3_document(group_version: str, resources: Sequence[ResourceType]) -> dict[str, Any]:
    served = [r for r in resources if r.group_version == group_version]
    ref = "#/components/schemas/"
    return {
        "openapi": "3.0.0",
        "info": {"title": "kube-dev-lab aggregated server", "version": group_version},
        "paths": _paths(served, ref, True),
        "components": {"schemas": schemas(served, ref)},
    }


def digest(document: dict[str, Any]) -> str:
    return hashlib.sha512(json.dumps(document, sort_keys=True).encode()).hexdigest().upper()


def v3_root(resources: Sequence[ResourceType]) -> dict[str, Any]:
    paths = {}
    for gv in sorted({r.group_version for r in resources}):
        paths[f"apis/{gv}"] = {"serverRelativeURL": f"/openapi/v3/apis/{gv}?hash={digest(v3_document(gv, resources))}"}
    return {"paths": paths}


def v2_document(resources: Sequence[ResourceType]) -> dict[str, Any]:
    ref = "#/definitions/"
    return {
        "swagger": "2.0",
        "info": {"title": "kube-dev-lab aggregated server", "version": "v0"},
        "paths": _paths(resources, ref, False),
        "definitions": schemas(resources, ref),
    }
