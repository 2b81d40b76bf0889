"""The node's ResourceSlice: its shape, when it differs, and what the publisher applies."""

from __future__ import annotations

from typing import Any

from kubelab_client.errors import ClientError
from kubelab_dra import DRIVER
from kubelab_dra.devices import Device
from kubelab_dra.slices import RESOURCE_SLICES, SlicePublisher, build, differs

from .conftest import DEVICES, NODE


def test_one_slice_per_node_with_attributes_and_capacity() -> None:
    s = build(NODE, "node-uid", DEVICES, generation=3)
    assert s["metadata"]["name"] == f"{NODE}-{DRIVER}"
    assert s["metadata"]["ownerReferences"][0] == {
        "apiVersion": "v1", "kind": "Node", "name": NODE, "uid": "node-uid", "controller": True,
    }  # fmt: skip
    spec = s["spec"]
    assert spec["driver"] == DRIVER and spec["nodeName"] == NODE
    assert spec["pool"] == {"name": NODE, "generation": 3, "resourceSliceCount": 1}
    assert spec["devices"][1] == {
        "name": "accel-1",
        "attributes": {"model": {"string": "lab-large"}, "link": {"string": "link-0"}, "index": {"int": 1}},
        "capacity": {"memory": {"value": "16Gi"}},
    }


def test_differs_ignores_the_generation_only() -> None:
    s = build(NODE, "u", DEVICES, generation=1)
    assert not differs(build(NODE, "u", DEVICES, generation=7), s)
    assert differs(build(NODE, "u", DEVICES[:2]), s)
    assert differs({"spec": {}}, s)


class RecordingApi:
    def __init__(self, fail: int = 0) -> None:
        self.applied: list[dict[str, Any]] = []
        self.fail = fail

    def get(self, resource: Any, name: str, namespace: str | None = None) -> dict[str, Any]:
        return {"metadata": {"name": name, "uid": "node-uid"}}

    def apply(self, resource: Any, obj: dict[str, Any], *, field_manager: str, force: bool = False) -> dict[str, Any]:
        assert resource == RESOURCE_SLICES and field_manager == "kubelab-dra" and force
        if self.fail:
            self.fail -= 1
            raise ClientError("the server is unavailable")
        self.applied.append(obj)
        return obj


def test_publish_applies_a_new_generation_and_survives_a_failure() -> None:
    api = RecordingApi(fail=1)
    pub = SlicePublisher(api, NODE, (Device("accel-0", "lab-small", "link-0", "8Gi"),))  # type: ignore[arg-type]
    pub.publish("the driver started")
    assert not pub.published.is_set() and api.applied == []
    pub.publish("it was missing")
    assert pub.published.is_set()
    assert api.applied[0]["metadata"]["ownerReferences"][0]["uid"] == "node-uid"
    pub.publish("it was deleted")
    assert [a["spec"]["pool"]["generation"] for a in api.applied] == [2, 3]
