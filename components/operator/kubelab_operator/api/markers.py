"""Marker annotations: what controller-gen's ``// +kubebuilder:...`` comments say, as Python values.

A field carries them in ``Annotated[...]``; a model class carries class-level ones (CEL rules,
preserve-unknown-fields) in ``__markers__``. :mod:`kubelab_operator.crdgen.schema` turns them
into the structural OpenAPI v3 schema, one marker → one schema keyword:

==========================  ========================================  ==========================
marker                      controller-gen                            schema
==========================  ========================================  ==========================
``Minimum(0)``              ``+kubebuilder:validation:Minimum=0``     ``minimum`` (``exclusive``)
``Maximum(n)``              ``...:Maximum``                           ``maximum``
``MultipleOf(n)``           ``...:MultipleOf``                        ``multipleOf``
``MinLength``/``MaxLength`` ``...:MinLength`` / ``MaxLength``         ``minLength``/``maxLength``
``Pattern(re)``             ``...:Pattern``                           ``pattern``
``MinItems``/``MaxItems``   ``...:MinItems`` / ``MaxItems``           ``minItems``/``maxItems``
``UniqueItems()``           ``...:UniqueItems``                       ``uniqueItems``
``MinProperties`` ...       ``...:MinProperties`` / ``MaxProperties`` ``minProperties``...
``Format("date-time")``     ``...:Format``                            ``format``
``Default(v)``              ``+kubebuilder:default``                  ``default``
``Enum`` (``Literal[...]``) ``...:Enum``                              ``enum``
``Rule(...)``               ``...:XValidation``                       ``x-kubernetes-validations``
``ListType("map", keys)``   ``+listType`` / ``+listMapKey``           ``x-kubernetes-list-type``…
``MapType("atomic")``       ``+mapType``                              ``x-kubernetes-map-type``
``PreserveUnknownFields()`` ``...:pruning:PreserveUnknownFields``     ``x-kubernetes-preserve-…``
``EmbeddedResource()``      ``...:EmbeddedResource``                  ``x-kubernetes-embedded-…``
``IntOrString()``           ``intstr.IntOrString``                    ``x-kubernetes-int-or-string``
==========================  ========================================  ==========================

Descriptions come from ``Field(description=...)``, and for models from their docstrings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


class Marker:
    """A schema keyword (or a few) that a field or model contributes."""

    def schema(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class Minimum(Marker):
    value: int | float
    exclusive: bool = False

    def schema(self) -> dict[str, Any]:
        return {"minimum": self.value, **({"exclusiveMinimum": True} if self.exclusive else {})}


@dataclass(frozen=True)
class Maximum(Marker):
    value: int | float
    exclusive: bool = False

    def schema(self) -> dict[str, Any]:
        return {"maximum": self.value, **({"exclusiveMaximum": True} if self.exclusive else {})}


@dataclass(frozen=True)
class MultipleOf(Marker):
    value: int | float

    def schema(self) -> dict[str, Any]:
        return {"multipleOf": self.value}


@dataclass(frozen=True)
class MinLength(Marker):
    value: int

    def schema(self) -> dict[str, Any]:
        return {"minLength": self.value}


@dataclass(frozen=True)
class MaxLength(Marker):
    value: int

    def schema(self) -> dict[str, Any]:
        return {"maxLength": self.value}


@dataclass(frozen=True)
class Pattern(Marker):
    regex: str

    def schema(self) -> dict[str, Any]:
        return {"pattern": self.regex}


@dataclass(frozen=True)
class MinItems(Marker):
    value: int

    def schema(self) -> dict[str, Any]:
        return {"minItems": self.value}


@dataclass(frozen=True)
class MaxItems(Marker):
    value: int

    def schema(self) -> dict[str, Any]:
        return {"maxItems": self.value}


@dataclass(frozen=True)
class UniqueItems(Marker):
    def schema(self) -> dict[str, Any]:
        return {"uniqueItems": True}


@dataclass(frozen=True)
class MinProperties(Marker):
    value: int

    def schema(self) -> dict[str, Any]:
        return {"minProperties": self.value}


@dataclass(frozen=True)
class MaxProperties(Marker):
    value: int

    def schema(self) -> dict[str, Any]:
        return {"maxProperties": self.value}


@dataclass(frozen=True)
class Format(Marker):
    value: str

    def schema(self) -> dict[str, Any]:
        return {"format": self.value}


@dataclass(frozen=True)
class Default(Marker):
    value: Any

    def schema(self) -> dict[str, Any]:
        return {"default": self.value}


@dataclass(frozen=True)
class Rule(Marker):
    """A CEL validation rule (``x-kubernetes-validations``); ``self`` is the annotated node."""

    rule: str
    message: str | None = None
    message_expression: str | None = None
    reason: Literal["FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate"] | None = (
        None
    )
    field_path: str | None = None

    def schema(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"rule": self.rule}
        for key, value in (
            ("message", self.message),
            ("messageExpression", self.message_expression),
            ("reason", self.reason),
            ("fieldPath", self.field_path),
        ):
            if value is not None:
                entry[key] = value
        return {"x-kubernetes-validations": [entry]}


@dataclass(frozen=True)
class ListType(Marker):
    kind: Literal["atomic", "set", "map"]
    keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if (self.kind == "map") != bool(self.keys):
            raise ValueError("ListType: map lists need keys (listMapKey), and only map lists take them")

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"x-kubernetes-list-type": self.kind}
        if self.keys:
            out["x-kubernetes-list-map-keys"] = list(self.keys)
        return out


@dataclass(frozen=True)
class MapType(Marker):
    kind: Literal["atomic", "granular"]

    def schema(self) -> dict[str, Any]:
        return {"x-kubernetes-map-type": self.kind}


@dataclass(frozen=True)
class PreserveUnknownFields(Marker):
    def schema(self) -> dict[str, Any]:
        return {"x-kubernetes-preserve-unknown-fields": True}


@dataclass(frozen=True)
class EmbeddedResource(Marker):
    def schema(self) -> dict[str, Any]:
        return {"x-kubernetes-embedded-resource": True}


@dataclass(frozen=True)
class IntOrString(Marker):
    def schema(self) -> dict[str, Any]:
        return {"x-kubernetes-int-or-string": True}
