"""The CustomResourceDefinition of a :class:`~kubelab_operator.api.resource.ResourceDefinition`.

One entry per version (its schema, printer columns, status subresource, served/storage/
deprecated), the names (plural, singular, kind, shortNames, categories), the scope, and
the conversion webhook (a Service reference; its ``caBundle`` is injected at run time by
the operator's certificate manager, so it is not in the generated file).
"""

from __future__ import annotations

from typing import Any

from kubelab_operator import deployment
from kubelab_operator.api.resource import PrinterColumn, ResourceDefinition, Version
from kubelab_operator.crdgen.schema import model_schema

CONVERSION_REVIEW_VERSIONS = ["v1"]


def _column(c: PrinterColumn) -> dict[str, Any]:
    out: dict[str, Any] = {"name": c.name, "type": c.type, "jsonPath": c.json_path}
    if c.description:
        out["description"] = c.description
    if c.priority:
        out["priority"] = c.priority
    if c.format:
        out["format"] = c.format
    return out


def version_schema(version: Version) -> dict[str, Any]:
    """The root schema: apiVersion, kind, metadata as the API server defines them, then spec and status."""
    body = model_schema(version.model)
    props = {
        "apiVersion": {"type": "string", "description": "the versioned schema of this representation of an object."},
        "kind": {"type": "string", "description": "the REST resource this object represents."},
        "metadata": {"type": "object"},
        **body["properties"],
    }
    out: dict[str, Any] = {"type": "object"}
    if "description" in body:
        out["description"] = body["description"]
    out["properties"] = dict(sorted(props.items()))
    if "required" in body:
        out["required"] = body["required"]
    return out


def _version(resource: ResourceDefinition, version: Version) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": version.name, "served": version.served, "storage": version.storage}
    if version.deprecated:
        entry["deprecated"] = True
        entry["deprecationWarning"] = version.deprecated
    entry["schema"] = {"openAPIV3Schema": version_schema(version)}
    if resource.status_subresource:
        entry["subresources"] = {"status": {}}
    if version.columns:
        entry["additionalPrinterColumns"] = [_column(c) for c in version.columns]
    return entry


def crd(resource: ResourceDefinition) -> dict[str, Any]:
    storage = [v.name for v in resource.versions if v.storage]
    if len(storage) != 1:
        raise ValueError(f"{resource.name}: exactly one storage version, got {storage}")
    names: dict[str, Any] = {
        "kind": resource.kind,
        "listKind": f"{resource.kind}List",
        "plural": resource.plural,
        "singular": resource.singular,
    }
    if resource.short_names:
        names["shortNames"] = list(resource.short_names)
    if resource.categories:
        names["categories"] = list(resource.categories)
    spec: dict[str, Any] = {
        "group": resource.group,
        "names": names,
        "scope": "Namespaced" if resource.namespaced else "Cluster",
        "versions": [_version(resource, v) for v in resource.versions],
    }
    if resource.conversion_path:
        spec["conversion"] = {
            "strategy": "Webhook",
            "webhook": {
                "conversionReviewVersions": CONVERSION_REVIEW_VERSIONS,
                "clientConfig": {
                    "service": {
                        "namespace": deployment.NAMESPACE,
                        "name": deployment.SERVICE,
                        "path": resource.conversion_path,
                        "port": 443,
                    }
                },
            },
        }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": resource.name, "labels": {"app.kubernetes.io/part-of": deployment.NAME}},
        "spec": spec,
    }
