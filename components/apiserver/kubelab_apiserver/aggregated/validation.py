"""Checking a body against the resource's types: its apiVersion and kind, unknown fields by the
request's ``fieldValidation`` (Strict: 400; Warn: a warning; Ignore: dropped, as pruning does) and
the spec and status schemas (422 Invalid with a cause per field).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from kubelab_apiserver.aggregated.resources import Object, ResourceType
from kubelab_apiserver.aggregated.status import bad_request, invalid

FieldValidation = Literal["Strict", "Warn", "Ignore"]
TOP_LEVEL = {"apiVersion", "kind", "metadata", "spec", "status"}
METADATA = {
    "name",
    "generateName",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
    "selfLink",
}


def field_validation(value: str | None) -> FieldValidation:
    if value in (None, ""):
        return "Warn"  # what kube-apiserver defaults to when the client does not say
    if value not in ("Strict", "Warn", "Ignore"):
        raise bad_request(f"fieldValidation must be one of Strict, Warn, Ignore, not {value!r}")
    return value  # type: ignore[return-value]


def check_kind(resource: ResourceType, obj: Any) -> Object:
    if not isinstance(obj, dict):
        raise bad_request("the request body is not a JSON object")
    if obj.get("apiVersion") != resource.group_version or obj.get("kind") != resource.kind:
        raise bad_request(
            f"the API version in the data ({obj.get('apiVersion')}) and kind ({obj.get('kind')}) do not match "
            f"{resource.group_version}, Kind={resource.kind}"
        )
    return obj


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: dict[str, Any]) -> str:
    kind, value = error["type"], error.get("input")
    if kind == "missing":
        return "Required value"
    shown = f'"{value}"' if isinstance(value, str) else repr(value)
    text = error["msg"].removeprefix("Value error, ")
    return f"Invalid value: {shown}: {text[0].lower() + text[1:]}" if text else f"Invalid value: {shown}"


def _drop(obj: Any, loc: tuple[int | str, ...]) -> None:
    for part in loc[:-1]:
        obj = obj[part]
    obj.pop(loc[-1], None)


def _check_part(model: type[BaseModel], part: str, data: Any) -> tuple[Any, list[str], list[dict[str, str]]]:
    """(data normalised, unknown fields, causes) for spec or status."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return (
            data,
            [],
            [{"type": "FieldValueTypeInvalid", "field": part, "message": "Invalid value: must be an object"}],
        )
    unknown: list[str] = []
    for _ in range(64):
        try:
            parsed = model.model_validate(data)
            return parsed.model_dump(mode="json"), unknown, []
        except ValidationError as exc:
            errors = exc.errors()
            extra = [e for e in errors if e["type"] == "extra_forbidden"]
            if not extra:
                causes = []
                for e in errors:
                    text = e["msg"].removeprefix("Value error, ")
                    field_, _, said = text.partition(": ")
                    if e["type"] == "value_error" and said:  # a model check naming its own field
                        causes.append({"type": "FieldValueDuplicate", "field": f"{part}.{field_}", "message": said})
                    else:
                        causes.append(
                            {
                                "type": "FieldValueRequired" if e["type"] == "missing" else "FieldValueInvalid",
                                "field": _path((part, *e["loc"])),
                                "message": _message(dict(e)),
                            }
                        )
                return data, unknown, causes
            data = _copy(data)
            for e in extra:
                unknown.append(_path((part, *e["loc"])))
                _drop(data, tuple(e["loc"]))
    raise bad_request(f"{part}: too many unknown fields")


def _copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


def validate(resource: ResourceType, obj: Object, mode: FieldValidation) -> tuple[Object, list[str]]:
    """The object with spec and status normalised (defaults filled, unknown fields dropped) and the
    warnings to send; raises 400 (Strict, unknown fields) or 422 (schema)."""
    name = str((obj.get("metadata") or {}).get("name") or "")
    unknown = [f for f in obj if f not in TOP_LEVEL]
    unknown += [f"metadata.{f}" for f in (obj.get("metadata") or {}) if f not in METADATA]
    out = {k: v for k, v in obj.items() if k in TOP_LEVEL}
    out["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k in METADATA}
    causes: list[dict[str, str]] = []
    for part, model in (("spec", resource.spec), ("status", resource.status)):
        if model is None or (part == "status" and part not in obj):
            continue
        out[part], extra, found = _check_part(model, part, obj.get(part))
        unknown += extra
        causes += found
    if unknown and mode == "Strict":
        said = ", ".join(f'unknown field "{u}"' for u in unknown)
        raise bad_request(
            f'{resource.kind} in version "{resource.version}" cannot be handled as a '
            f"{resource.kind}: strict decoding error: {said}"
        )
    if causes:
        raise invalid(resource, name, causes)
    warnings = [f'unknown field "{u}"' for u in unknown] if mode == "Warn" else []
    return out, warnings
