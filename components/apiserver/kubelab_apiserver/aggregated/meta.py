"""ObjectMeta the way the API server treats it: names, generateName, the fields the server owns
(uid, creationTimestamp, generation, resourceVersion, deletionTimestamp) and label checks.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
from typing import Any

from kubelab_apiserver.aggregated.resources import Object, ResourceType
from kubelab_apiserver.aggregated.status import bad_request, invalid
from kubelab_client.objects import format_time

DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
_RANDOM = "bcdfghjklmnpqrstvwxz2456789"  # what generateName draws from: no vowels, no look-alikes
SERVER_OWNED = ("uid", "creationTimestamp", "generation", "resourceVersion", "deletionTimestamp", "managedFields")


def now() -> str:
    return format_time(dt.datetime.now(dt.UTC))


def meta(obj: Object) -> dict[str, Any]:
    found = obj.get("metadata")
    if found is None:
        obj["metadata"] = found = {}
    if not isinstance(found, dict):
        raise bad_request("metadata must be an object")
    return found


def check_name(resource: ResourceType, name: str, field: str = "metadata.name") -> list[dict[str, str]]:
    if not name:
        return [
            {
                "type": "FieldValueRequired",
                "field": field,
                "message": "Required value: name or generateName is required",
            }
        ]
    if len(name) > 253 or not DNS_SUBDOMAIN.fullmatch(name):
        return [
            {
                "type": "FieldValueInvalid",
                "field": field,
                "message": f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case '
                "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            }
        ]
    return []


def check_labels(labels: Any, field: str = "metadata.labels") -> list[dict[str, str]]:
    if labels is None:
        return []
    if not isinstance(labels, dict):
        return [{"type": "FieldValueInvalid", "field": field, "message": "Invalid value: must be a map of strings"}]
    causes: list[dict[str, str]] = []
    for key, value in labels.items():
        prefix, _, name = str(key).rpartition("/")
        if (prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.fullmatch(prefix))) or not LABEL_NAME.fullmatch(name):
            causes.append(
                {
                    "type": "FieldValueInvalid",
                    "field": field,
                    "message": f'Invalid value: "{key}": name part '
                    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                    "alphanumeric character",
                }
            )
        if not isinstance(value, str) or (value and not LABEL_NAME.fullmatch(value)):
            causes.append(
                {
                    "type": "FieldValueInvalid",
                    "field": f"{field}.{key}",
                    "message": f"Invalid value: "
                    f'"{value}": a valid label must be an empty string or consist of alphanumeric characters, '
                    "'-', '_' or '.', and must start and end with an alphanumeric character",
                }
            )
    return causes


def prepare_create(resource: ResourceType, obj: Object, namespace: str | None) -> Object:
    """Server-owned fields set, the name generated if asked; the status is the status subresource's."""
    m = meta(obj)
    for owned in SERVER_OWNED:
        m.pop(owned, None)
    if resource.namespaced:
        sent = m.get("namespace")
        if sent and sent != namespace:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        m["namespace"] = namespace
    else:
        m.pop("namespace", None)
    if not m.get("name") and m.get("generateName"):
        m["name"] = str(m["generateName"]) + "".join(secrets.choice(_RANDOM) for _ in range(5))
    causes = check_name(resource, str(m.get("name") or "")) + check_labels(m.get("labels"))
    if causes:
        raise invalid(resource, str(m.get("name") or m.get("generateName") or ""), causes)
    m["uid"] = str(uuid.uuid4())
    m["creationTimestamp"] = now()
    m["generation"] = 1
    obj.pop("status", None)
    return obj


def prepare_update(resource: ResourceType, new: Object, old: Object, *, subresource: str = "") -> Object:
    """What an update may not change is taken from ``old``; ``generation`` counts spec changes. The main
    resource ignores status changes and the status subresource ignores everything else."""
    m, o = meta(new), meta(old)
    name = o["name"]
    if m.get("name", name) != name:
        raise bad_request(f"the name of the object ({m.get('name')}) does not match the name on the URL ({name})")
    if resource.namespaced and m.get("namespace", o.get("namespace")) != o.get("namespace"):
        raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
    if subresource == "status":
        kept = {k: v for k, v in old.items() if k != "status"}
        kept["status"] = new.get("status")
        if kept["status"] is None:
            kept.pop("status")
        kept["metadata"] = dict(o)
        kept["metadata"]["resourceVersion"] = m.get("resourceVersion", "")
        return kept
    for owned in ("uid", "creationTimestamp", "deletionTimestamp", "namespace", "name"):
        if owned in o:
            m[owned] = o[owned]
        else:
            m.pop(owned, None)
    if "status" in old:
        new["status"] = old["status"]
    else:
        new.pop("status", None)
    m["generation"] = int(o.get("generation", 1)) + (1 if new.get("spec") != old.get("spec") else 0)
    causes = check_labels(m.get("labels"))
    if causes:
        raise invalid(resource, name, causes)
    return new
