"""STARTER (chapter 7.3): one TODO below, marked ``TODO(7.3)``. Everything else works.

The lab's two admission rules, for ConfigMaps, and which mechanism handles which ConfigMap.

A ConfigMap labelled ``admission.kubelab.dev/by=<way>`` is handled by that way only: ``plugin``
(compiled into kube-apiserver), ``webhook`` (this package's webhooks) or ``policy`` (the admission
policies). Every way applies the same two rules:

- **mutating**, on CREATE: the annotation ``admission.kubelab.dev/owner`` defaults to the name of
  the user who creates the ConfigMap (a value already there is kept);
- **validating**, on CREATE and UPDATE: no ``data`` or ``binaryData`` key may contain
  ``password`` in any case; the first such key (in sorted order) is named in the denial, a 403.

The Go plugin (kube-apiserver-plugin/owner/admission.go) and the CEL of ``registrations`` are
written to match this module line for line.
"""

from __future__ import annotations

import json
from typing import Any

BY_LABEL = "admission.kubelab.dev/by"
WAYS = ("plugin", "webhook", "policy")
OWNER_ANNOTATION = "admission.kubelab.dev/owner"
FORBIDDEN = "password"


def handled_by(obj: dict[str, Any] | None, way: str) -> bool:
    labels = ((obj or {}).get("metadata") or {}).get("labels") or {}
    return obj is not None and obj.get("kind", "ConfigMap") == "ConfigMap" and labels.get(BY_LABEL) == way


def _pointer(*parts: str) -> str:
    """An RFC 6901 JSON pointer (``/`` in a key is ``~1``)."""
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def owner_patch(obj: dict[str, Any], username: str) -> list[dict[str, Any]]:
    """The JSON Patch that defaults the owner annotation (empty when it is already set)."""
    annotations = (obj.get("metadata") or {}).get("annotations")
    if annotations is not None and OWNER_ANNOTATION in annotations:
        return []
    if annotations is None:
        return [{"op": "add", "path": "/metadata/annotations", "value": {OWNER_ANNOTATION: username}}]
    return [{"op": "add", "path": _pointer("metadata", "annotations", OWNER_ANNOTATION), "value": username}]


def password_key(obj: dict[str, Any]) -> str | None:
    """The first key (sorted) of data and binaryData naming a password, or None."""
    # TODO(7.3): this admits every ConfigMap. Look at the keys of obj["data"] and obj["binaryData"]
    # (either may be missing), in sorted order, and return the first that contains FORBIDDEN
    # ("password") in any case, or None. The plugin (kube-apiserver-plugin/owner/admission.go) and
    # the ValidatingAdmissionPolicy (registrations.py) do the same.
    return None


def denial(key: str) -> str:
    return f"key {json.dumps(key)} looks like a password: put it in a Secret"
