"""Pre-provisioned VolumeSnapshotContents handed to the node that holds their snapshot.

Node-local snapshots are taken by a csi-snapshotter on each node (``--node-deployment``), and
such a snapshotter watches only the contents labelled ``snapshot.storage.kubernetes.io/managed-by
= <its node>``. The snapshot controller puts that label on the contents it makes for dynamic
snapshots; a content made by hand from a snapshot handle (pre-provisioned: an import, a restore
into another namespace) has none, so no snapshotter would ever check it and its VolumeSnapshot
would never become ready. Our snapshot handles name their node (``snap-<hash>.<node>``), so each
node's driver pod runs this small controller (``kubelab-csi claim-contents``): it watches the
unlabelled contents (a label selector, so its cache holds only those) and labels the ones of this
driver whose handle names its node. Built on the Chapter 2 informer; a failed patch is retried at
the next resync.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from kubelab_client.errors import ClientError
from kubelab_client.informer import HandlerFuncs, SharedInformer
from kubelab_client.kube import Api
from kubelab_client.listwatch import ListWatch
from kubelab_client.resources import Resource
from kubelab_csi.storage.records import node_of

MANAGED_BY = "snapshot.storage.kubernetes.io/managed-by"
CONTENTS = Resource(
    "snapshot.storage.k8s.io", "v1", "volumesnapshotcontents", "VolumeSnapshotContent", namespaced=False
)
RESYNC_SECONDS = 30.0
log = logging.getLogger(__name__)


def claimable(content: dict[str, Any], driver: str, node: str) -> bool:
    """True for an unlabelled content of ``driver`` whose snapshot handle names ``node``."""
    spec = content.get("spec") or {}
    handle = (spec.get("source") or {}).get("snapshotHandle")
    labels = (content.get("metadata") or {}).get("labels") or {}
    return spec.get("driver") == driver and bool(handle) and node_of(str(handle)) == node and MANAGED_BY not in labels


class ContentClaimer:
    """Labels this node's pre-provisioned contents so that its csi-snapshotter takes them."""

    def __init__(self, api: Api, driver: str, node: str) -> None:
        self.api, self.driver, self.node = api, driver, node
        self.informer = SharedInformer(
            ListWatch(api, CONTENTS, label_selector=f"!{MANAGED_BY}"),
            name="snapshot-contents",
            resync_period=RESYNC_SECONDS,
        )
        self.informer.add_event_handler(HandlerFuncs(add=self.claim, update=lambda _old, new: self.claim(new)))

    def claim(self, content: dict[str, Any]) -> None:
        """Label ``content`` when it is this node's."""
        if not claimable(content, self.driver, self.node):
            return
        name = str(content["metadata"]["name"])
        try:
            self.api.patch(CONTENTS, name, {"metadata": {"labels": {MANAGED_BY: self.node}}})
        except ClientError as exc:
            log.warning("labelling VolumeSnapshotContent %s for %s failed (retried at the next resync): %s",
                        name, self.node, exc)  # fmt: skip
            return
        log.info("VolumeSnapshotContent %s: snapshot %s is on %s; labelled %s=%s",
                 name, content["spec"]["source"]["snapshotHandle"], self.node, MANAGED_BY, self.node)  # fmt: skip

    def run(self, stop: threading.Event) -> None:
        self.informer.run(stop)
