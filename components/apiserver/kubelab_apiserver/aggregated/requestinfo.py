"""What a request is about, read from its method and path as kube-apiserver's RequestInfoFactory
reads it: a resource request (verb, group, version, namespace, resource, name, subresource) or a
non-resource one (``/apis``, ``/openapi/v3``, ``/healthz``). Authorization asks about exactly this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

WRITE_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}


@dataclass(frozen=True)
class RequestInfo:
    path: str
    verb: str
    is_resource: bool = False
    group: str = ""
    version: str = ""
    namespace: str = ""
    resource: str = ""
    name: str = ""
    subresource: str = ""

    def describe(self) -> str:
        """For a 403: ``cannot list resource "books" in API group "g" in the namespace "ns"``."""
        if not self.is_resource:
            return f'cannot {self.verb} path "{self.path}"'
        what = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        text = f'cannot {self.verb} resource "{what}" in API group "{self.group}"'
        if self.namespace:
            text += f' in the namespace "{self.namespace}"'
        elif self.resource:
            text += " at the cluster scope"
        return text


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true")


def request_info(method: str, path: str, query: Mapping[str, str]) -> RequestInfo:
    method = method.upper()
    parts = [p for p in path.split("/") if p]
    if len(parts) < 4 or parts[0] != "apis":
        return RequestInfo(path, method.lower() if method != "HEAD" else "get")
    group, version, rest = parts[1], parts[2], parts[3:]
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    elif rest[0] == "namespaces" and len(rest) == 2:
        return RequestInfo(path, _verb(method, True, query), True, group, version, "", "namespaces", rest[1])
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if len(rest) > 3:
        return RequestInfo(path, method.lower())
    return RequestInfo(
        path, _verb(method, bool(name), query), True, group, version, namespace, resource, name, subresource
    )


def _verb(method: str, named: bool, query: Mapping[str, str]) -> str:
    if method in ("GET", "HEAD"):
        if _truthy(query.get("watch")):
            return "watch"
        return "get" if named else "list"
    if method == "DELETE":
        return "delete" if named else "deletecollection"
    return WRITE_VERBS.get(method, method.lower())
