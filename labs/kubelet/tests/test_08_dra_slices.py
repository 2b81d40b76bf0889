"""Checkpoint 8 (DRA: publishing devices): each worker's ResourceSlice lists its devices with their
attributes and capacity, the DeviceClass selects them, and a deleted slice comes back."""

from __future__ import annotations

from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.waiting import eventually

from .dralab import CLASS, DRIVER, SEED_COUNT


def slice_of(kubectl: Kubectl, node: str) -> dict[str, Any]:
    items = kubectl.json("get", "resourceslices", "--field-selector", f"spec.nodeName={node},spec.driver={DRIVER}")[
        "items"
    ]
    assert len(items) == 1, f"{len(items)} ResourceSlices of {DRIVER} for {node}"
    spec: dict[str, Any] = items[0]["spec"]
    return spec


def test_08_a_slice_per_worker(kubectl: Kubectl, dra: str, workers: list[str]) -> None:
    """`kubectl get resourceslices`: one per worker, pool = node, accel-0..3 with `model`, `link`,
    `index` and `memory`; deleting one, the driver publishes it again.

    Hint (Chapter 9, DRA: publishing devices): kubelet-plugins/dra/kubelab_dra/slices.py; the driver's log says when
    it published and why; `kubectl get resourceslice <node>-dra.kubelab.dev -o yaml`.
    """
    selector = kubectl.json("get", "deviceclass", CLASS)["spec"]["selectors"][0]["cel"]["expression"]
    assert selector == f'device.driver == "{DRIVER}"'
    for node in workers:
        spec = eventually(lambda node=node: slice_of(kubectl, node), timeout=90, interval=1, what=f"{node}'s slice")
        assert spec["pool"] == {"name": node, "generation": spec["pool"]["generation"], "resourceSliceCount": 1}
        devices = spec["devices"]
        assert [d["name"] for d in devices] == [f"accel-{i}" for i in range(SEED_COUNT)]
        large = devices[1]
        assert large["attributes"] == {
            "model": {"string": "lab-large"},
            "link": {"string": "link-0"},
            "index": {"int": 1},
        }
        assert large["capacity"] == {"memory": {"value": "16Gi"}}
    node = workers[0]
    kubectl.run("delete", "resourceslice", f"{node}-{DRIVER}", "--wait=true")
    eventually(lambda: slice_of(kubectl, node), timeout=60, interval=1, what=f"{node}'s slice published again")
