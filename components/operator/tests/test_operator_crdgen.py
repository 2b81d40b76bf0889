"""The CRD generator: structural output, markers mapped, and the committed manifest up to date."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import Field

from kubelab_operator.api.base import ApiModel
from kubelab_operator.api.markers import (
    Default,
    ListType,
    MapType,
    Maximum,
    MaxLength,
    Minimum,
    Pattern,
    PreserveUnknownFields,
    Rule,
)
from kubelab_operator.api.resource import CRONJOB
from kubelab_operator.crdgen import output
from kubelab_operator.crdgen.crd import crd
from kubelab_operator.crdgen.schema import SchemaError, model_schema


def walk(node: Any) -> list[dict[str, Any]]:
    out = []
    if isinstance(node, dict):
        out.append(node)
        for v in node.values():
            out += walk(v)
    elif isinstance(node, list):
        for v in node:
            out += walk(v)
    return out


def test_committed_crd_is_what_the_generator_writes() -> None:
    output.check()  # fails with the command to run when stale


def test_structural() -> None:
    doc = crd(CRONJOB)
    for version in doc["spec"]["versions"]:
        for node in walk(version["schema"]["openAPIV3Schema"]):
            assert not {"$ref", "anyOf", "oneOf", "allOf", "title", "nullable"} & node.keys(), node
            if "properties" in node or "items" in node:
                assert node.get("type") in ("object", "array")


def test_resource_level_markers() -> None:
    spec = crd(CRONJOB)["spec"]
    assert spec["names"]["shortNames"] == ["kcj"] and spec["names"]["categories"] == ["kubelab"]
    assert [(v["name"], v["storage"]) for v in spec["versions"]] == [("v1", True), ("v2", False)]
    assert all(v["subresources"] == {"status": {}} for v in spec["versions"])
    assert spec["conversion"]["webhook"]["clientConfig"]["service"]["path"] == "/convert"
    v1 = spec["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
    assert v1["status"]["properties"]["conditions"]["x-kubernetes-list-map-keys"] == ["type"]
    assert v1["spec"]["properties"]["concurrencyPolicy"]["enum"] == ["Allow", "Forbid", "Replace"]
    assert v1["spec"]["required"] == ["jobTemplate", "schedule"]
    v2 = spec["versions"][1]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["schedule"]
    assert v2["x-kubernetes-validations"][0]["message"].startswith("set at least one field")


class Sample(ApiModel):
    """A sample."""

    __markers__ = (
        Rule(
            "self.low <= self.high",
            message_expression="'low ' + string(self.low)",
            reason="FieldValueInvalid",
            field_path=".low",
        ),
    )

    low: Annotated[int, Minimum(0), Maximum(10, exclusive=True)] = Field(description="low")
    high: Annotated[int | None, Default(5)] = None
    code: Annotated[str | None, MaxLength(4), Pattern("^[A-Z]+$")] = None
    tags: Annotated[list[str] | None, ListType("set")] = None
    labels: Annotated[dict[str, str] | None, MapType("atomic")] = None
    free: Annotated[dict[str, Any] | None, PreserveUnknownFields()] = None


def test_markers_become_keywords() -> None:
    schema = model_schema(Sample)
    props = schema["properties"]
    assert schema["description"] == "A sample." and schema["required"] == ["low"]
    assert props["low"] == {
        "description": "low",
        "type": "integer",
        "format": "int64",
        "minimum": 0,
        "maximum": 10,
        "exclusiveMaximum": True,
    }
    assert props["high"]["default"] == 5
    assert props["code"] == {"type": "string", "maxLength": 4, "pattern": "^[A-Z]+$"}
    assert props["tags"]["x-kubernetes-list-type"] == "set"
    assert props["labels"]["x-kubernetes-map-type"] == "atomic"
    assert props["free"] == {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    assert schema["x-kubernetes-validations"] == [
        {
            "rule": "self.low <= self.high",
            "messageExpression": "'low ' + string(self.low)",
            "reason": "FieldValueInvalid",
            "fieldPath": ".low",
        }
    ]


def test_unstructural_types_are_refused() -> None:
    class Bad(ApiModel):
        either: int | str

    with pytest.raises(SchemaError, match="unions other than Optional"):
        model_schema(Bad)

    class Free(ApiModel):
        blob: dict[str, Any]

    with pytest.raises(SchemaError, match="PreserveUnknownFields"):
        model_schema(Free)


def test_list_type_map_needs_keys() -> None:
    with pytest.raises(ValueError, match="map lists need keys"):
        ListType("map")
