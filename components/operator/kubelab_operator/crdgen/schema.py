"""A pydantic model and its markers → a *structural* OpenAPI v3 schema, as the API server wants it.

Structural means: every node has a ``type`` (unless it is int-or-string or preserves unknown
fields), no ``$ref`` (nested models are inlined), no ``anyOf`` for ``Optional`` (an optional
field is simply not ``required``; ``None`` is never sent, as ``omitempty``), no ``title``.
Properties come out sorted, so the output is stable whatever the field order.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from kubelab_operator.api.markers import Marker


class SchemaError(TypeError):
    """A type the generator cannot express structurally; the message names the field."""


_SCALARS: dict[type, dict[str, Any]] = {
    str: {"type": "string"},
    bool: {"type": "boolean"},
    int: {"type": "integer", "format": "int64"},
    float: {"type": "number"},
    dt.datetime: {"type": "string", "format": "date-time"},
}


def _merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if key == "x-kubernetes-validations":
            into.setdefault(key, []).extend(value)
        else:
            into[key] = value


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) != len(get_args(annotation)) and len(args) == 1:
            return args[0], True
        raise SchemaError(f"unions other than Optional[X] are not structural: {annotation}")
    return annotation, False


def _unwrap(annotation: Any) -> tuple[Any, list[Marker]]:
    """``Annotated[X, m1, m2]`` (nested, too) → ``X`` and its markers."""
    markers: list[Marker] = []
    while get_origin(annotation) is typing.Annotated:
        base, *meta = get_args(annotation)
        markers = [m for m in meta if isinstance(m, Marker)] + markers
        annotation = base
    return annotation, markers


def type_schema(annotation: Any, where: str) -> dict[str, Any]:
    """The schema of one type (markers included); ``where`` names it in errors."""
    annotation, markers = _unwrap(annotation)
    annotation, _ = _strip_optional(annotation)
    annotation, inner = _unwrap(annotation)
    markers = inner + markers
    schema = _bare_schema(annotation, where, markers)
    for marker in markers:
        _merge(schema, marker.schema())
    return schema


def _bare_schema(annotation: Any, where: str, markers: list[Marker]) -> dict[str, Any]:
    origin = get_origin(annotation)
    if annotation is Any:
        if not any(m.schema().get("x-kubernetes-preserve-unknown-fields") for m in markers):
            raise SchemaError(f"{where}: Any needs PreserveUnknownFields() (or IntOrString())")
        return {}
    if origin is Literal:
        values = list(get_args(annotation))
        kinds = {type(v) for v in values}
        if len(kinds) != 1 or next(iter(kinds)) not in _SCALARS:
            raise SchemaError(f"{where}: Literal values must share one scalar type")
        return {**_SCALARS[next(iter(kinds))], "enum": values}
    if origin is list:
        (item,) = get_args(annotation)
        return {"type": "array", "items": type_schema(item, f"{where}[]")}
    if origin is dict:
        key, value = get_args(annotation)
        if key is not str:
            raise SchemaError(f"{where}: map keys must be str")
        if value is Any:  # a free-form object: only with PreserveUnknownFields()
            _bare_schema(Any, where, markers)
            return {"type": "object"}
        return {"type": "object", "additionalProperties": type_schema(value, f"{where}{{}}")}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return model_schema(annotation)
    if isinstance(annotation, type) and annotation in _SCALARS:
        return dict(_SCALARS[annotation])
    raise SchemaError(f"{where}: no structural schema for {annotation!r}")


def _description(info: FieldInfo) -> dict[str, Any]:
    return {"description": info.description} if info.description else {}


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """An object schema: properties (by their wire names), required ones, class-level markers."""
    props: dict[str, Any] = {}
    required: list[str] = []
    for name, info in model.model_fields.items():
        wire = info.alias or name
        annotation = info.annotation
        # pydantic moves Annotated metadata of the field into info.metadata
        markers = [m for m in info.metadata if isinstance(m, Marker)]
        if markers:
            annotation = typing.Annotated[(annotation, *markers)]  # type: ignore[assignment]
        schema = {**_description(info), **type_schema(annotation, f"{model.__name__}.{wire}")}
        props[wire] = schema
        if info.is_required():
            required.append(wire)
    out: dict[str, Any] = {"type": "object"}
    doc = (model.__doc__ or "").strip()
    if doc and model.__doc__ is not BaseModel.__doc__:
        out["description"] = " ".join(doc.split())
    out["properties"] = dict(sorted(props.items()))
    if required:
        out["required"] = sorted(required)
    for marker in getattr(model, "__markers__", ()):
        _merge(out, marker.schema())
    return out
