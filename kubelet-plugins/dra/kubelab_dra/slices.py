"""The node's ResourceSlice: what the scheduler may allocate from this driver on this node.

One slice per node, named ``<node>-dra.kubelab.dev``: pool ``<node>`` (generation bumped when
the devices change, one slice in the pool), ``nodeName``, and each device with its attributes
(``model``, ``link`` as strings, ``index`` as an int) and capacity (``memory``), which a
DeviceClass or a claim selects with CEL (``device.attributes["dra.kubelab.dev"].model``). The
slice is owned by the Node, so it goes with it.

:class:`SlicePublisher` keeps it so, through the Chapter 2 informer on this node's slices (a
field selector on ``spec.nodeName``): it applies the slice at start, again when it is deleted
(the kubelet deletes a driver's slices when the driver's plugin goes away; a user may too),
and again when its spec no longer says what this driver has (server-side apply, one field
manager, so a changed spec is put back).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from kubelab_client.errors import ClientError
from kubelab_client.informer import HandlerFuncs, SharedInformer
from kubelab_client.kube import Api
from kubelab_client.listwatch import ListWatch
from kubelab_client.resources import NODES, Resource
from kubelab_dra import DRIVER
from kubelab_dra.devices import Device

RESOURCE_SLICES = Resource("resource.k8s.io", "v1", "resourceslices", "ResourceSlice", namespaced=False)
FIELD_MANAGER = "kubelab-dra"
RESYNC_SECONDS = 30.0
log = logging.getLogger(__name__)


def slice_name(node: str) -> str:
    return f"{node}-{DRIVER}"


def device_entry(device: Device) -> dict[str, Any]:
    return {
        "name": device.name,
        "attributes": {
            "model": {"string": device.model},
            "link": {"string": device.link},
            "index": {"int": device.index},
        },
        "capacity": {"memory": {"value": device.memory}},
    }


def build(node: str, node_uid: str, devices: tuple[Device, ...], generation: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": RESOURCE_SLICES.api_version,
        "kind": RESOURCE_SLICES.kind,
        "metadata": {
            "name": slice_name(node),
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "Node", "name": node, "uid": node_uid, "controller": True}
            ],
        },
        "spec": {
            "driver": DRIVER,
            "nodeName": node,
            "pool": {"name": node, "generation": generation, "resourceSliceCount": 1},
            "devices": [device_entry(d) for d in devices],
        },
    }


def differs(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """True when the slice's spec says something else than ``wanted``'s (the pool's generation aside)."""
    have, want = current.get("spec") or {}, wanted["spec"]
    return any(have.get(k) != want[k] for k in ("driver", "nodeName", "devices")) or (
        (have.get("pool") or {}).get("name") != want["pool"]["name"]
    )


class SlicePublisher:
    """Keeps this node's ResourceSlice in place while the driver runs."""

    def __init__(self, api: Api, node: str, devices: tuple[Device, ...]) -> None:
        self.api, self.node, self.devices = api, node, devices
        self.generation = 0
        self.published = threading.Event()
        self._lock = threading.Lock()
        self.informer = SharedInformer(
            ListWatch(api, RESOURCE_SLICES, field_selector=f"spec.nodeName={node}"),
            name="resourceslices",
            resync_period=RESYNC_SECONDS,
        )
        self.informer.add_event_handler(
            HandlerFuncs(update=lambda _old, new: self._check(new), delete=lambda _obj: self.publish("it was deleted"))
        )
        self._node_uid = ""

    def _check(self, current: dict[str, Any]) -> None:
        if (current.get("metadata") or {}).get("name") != slice_name(self.node):
            return
        if differs(current, self.wanted(int(((current.get("spec") or {}).get("pool") or {}).get("generation", 0)))):
            self.publish("its spec was changed")

    def wanted(self, generation: int) -> dict[str, Any]:
        return build(self.node, self._node_uid, self.devices, max(generation, 1))

    def publish(self, why: str) -> None:
        """Apply the slice (a new pool generation); a failure is logged and retried at the next resync."""
        with self._lock:
            try:
                if not self._node_uid:
                    self._node_uid = str(self.api.get(NODES, self.node)["metadata"]["uid"])
                self.generation += 1
                self.api.apply(RESOURCE_SLICES, self.wanted(self.generation), field_manager=FIELD_MANAGER, force=True)
            except ClientError as exc:
                self.published.clear()
                log.warning("publishing ResourceSlice %s failed (retried): %s", slice_name(self.node), exc)
                return
            self.published.set()
            listed = ", ".join(f"{d.name} ({d.model}, {d.link}, {d.memory})" for d in self.devices)
            log.info("published ResourceSlice %s (%s): %s", slice_name(self.node), why, listed or "no devices")

    def missing(self) -> bool:
        """True when the informer's cache, once synced, holds no slice of this driver for this node."""
        if not self.informer.has_synced():
            return False
        return all((s.get("metadata") or {}).get("name") != slice_name(self.node) for s in self.informer.indexer.list())

    def run(self, stop: threading.Event) -> None:
        """Publish, watch, and publish again whenever the slice is gone or changed, until ``stop``."""
        self.publish("the driver started")
        thread = self.informer.start(stop)
        while not stop.wait(2.0):
            if self.missing() or not self.published.is_set():
                self.publish("it was missing")
        thread.join(timeout=5)

    def withdraw(self) -> None:
        """Delete the slice (the driver is being uninstalled, not restarted)."""
        try:
            self.api.delete(RESOURCE_SLICES, slice_name(self.node))
        except ClientError as exc:
            log.info("ResourceSlice %s not deleted: %s", slice_name(self.node), exc)
