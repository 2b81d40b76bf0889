"""Failures as the API server reports them: a ``meta/v1 Status`` with the HTTP code, a reason and,
for one object, ``details`` naming it (``kubectl`` prints ``message``; clients switch on ``reason``).
"""

from __future__ import annotations

from typing import Any

from kubelab_apiserver.aggregated.resources import ResourceType
from kubelab_apiserver.storage import StorageError
from kubelab_client.objects import failure_status


class StatusError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    @property
    def status(self) -> dict[str, Any]:
        return failure_status(self.code, self.reason, self.message, self.details)


def _details(resource: ResourceType, name: str, causes: list[dict[str, str]] | None = None) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "group": resource.group, "kind": resource.plural}
    if causes:
        details["causes"] = causes
    return details


def not_found(resource: ResourceType, name: str) -> StatusError:
    return StatusError(404, "NotFound", f'{resource.group_resource} "{name}" not found', _details(resource, name))


def already_exists(resource: ResourceType, name: str) -> StatusError:
    message = f'{resource.group_resource} "{name}" already exists'
    return StatusError(409, "AlreadyExists", message, _details(resource, name))


def conflict(resource: ResourceType, name: str, why: str) -> StatusError:
    message = f'Operation cannot be fulfilled on {resource.group_resource} "{name}": {why}'
    return StatusError(409, "Conflict", message, _details(resource, name))


def invalid(resource: ResourceType, name: str, causes: list[dict[str, str]]) -> StatusError:
    said = "; ".join(f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes)
    message = f'{resource.kind}.{resource.group} "{name}" is invalid: ' + (f"[{said}]" if len(causes) > 1 else said)
    return StatusError(422, "Invalid", message, {**_details(resource, name, causes), "kind": resource.kind})


def forbidden(resource: ResourceType, name: str, why: str) -> StatusError:
    target = f'{resource.group_resource} "{name}"' if name else resource.group_resource
    return StatusError(403, "Forbidden", f"{target} is forbidden: {why}", _details(resource, name))


def bad_request(message: str) -> StatusError:
    return StatusError(400, "BadRequest", message)


def method_not_supported(resource: ResourceType, verb: str) -> StatusError:
    return StatusError(405, "MethodNotAllowed", f"{verb} is not supported on resources of kind {resource.plural!r}")


def gone(message: str) -> StatusError:
    return StatusError(410, "Expired", message)


def from_storage(exc: StorageError, resource: ResourceType, name: str) -> StatusError:
    """The storage failure as the Status a client expects for ``resource`` ``name``."""
    if exc.reason == "NotFound":
        return not_found(resource, name)
    if exc.reason == "AlreadyExists":
        return already_exists(resource, name)
    if exc.reason == "Conflict":
        return conflict(
            resource,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    return StatusError(exc.code, exc.reason, str(exc))
