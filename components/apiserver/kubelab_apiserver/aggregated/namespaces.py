"""The cluster's namespaces, followed through the Chapter 2 informer: the NamespaceLifecycle
admission plugin asks it whether a namespace exists and is not being deleted."""

from __future__ import annotations

import threading
from typing import Any

from kubelab_client.informer import SharedInformer
from kubelab_client.kube import Api
from kubelab_client.listwatch import ListWatch
from kubelab_client.resources import NAMESPACES


class NamespaceCache:
    def __init__(self, api: Api) -> None:
        self.informer = SharedInformer(ListWatch(api, NAMESPACES), name="namespaces")

    def start(self, stop: threading.Event) -> None:
        self.informer.start(stop)

    def not_ready(self) -> str:
        return "" if self.informer.has_synced() else "the namespace cache has not synced"

    async def get(self, name: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.informer.indexer.get_by_key(name)
        return found
