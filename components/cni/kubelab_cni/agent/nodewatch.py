"""The cluster's nodes, followed through the Chapter 2 informer (``kubelab_client.SharedInformer``).

The informer lists and watches nodes (RBAC: ``list`` and ``watch`` on nodes; a resumed
watch, a 410 relist, backoff: all the reflector's). Its handlers keep a map of
:class:`~kubelab_cni.agent.nodeinfo.NodeInfo` (name, InternalIP, podCIDR); when that changes
(a node joins, leaves, or changes address or podCIDR; other edits, such as a status
heartbeat, change nothing) they call ``sync(nodes)`` with every node, once syncing is on.

``sync`` is the agent's route sync; tests pass a recorder (no netlink, no root). Calls to it
are serialized, and each gets the latest map, whether from a handler or from
:meth:`NodeWatcher.sync` (the agent's periodic resync).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kubelab_client.informer import HandlerFuncs, SharedInformer
from kubelab_client.keys import meta_namespace_key
from kubelab_client.listwatch import ListerWatcher
from kubelab_client.reflector import ReflectorOptions
from kubelab_cni.agent.nodeinfo import NodeInfo, node_info

log = logging.getLogger("kubelab-cni-agent")

Sync = Callable[[list[NodeInfo]], object]


class NodeWatcher:
    def __init__(
        self,
        lister_watcher: ListerWatcher,
        sync: Sync,
        *,
        reflector_options: ReflectorOptions | None = None,
        name: str = "nodes",
    ) -> None:
        self._sync = sync
        self._cond = threading.Condition()  # guards _nodes; notified on every change
        self._nodes: dict[str, NodeInfo] = {}
        self._sync_lock = threading.Lock()
        self._syncing = False
        self.informer = SharedInformer(lister_watcher, name=name, reflector_options=reflector_options)
        self.informer.add_event_handler(HandlerFuncs(add=self._on_add, update=self._on_update, delete=self._on_delete))

    def start(self, stop: threading.Event) -> threading.Thread:
        """List and watch in the background until ``stop`` is set."""
        return self.informer.start(stop)

    # what is known
    def nodes(self) -> list[NodeInfo]:
        with self._cond:
            return sorted(self._nodes.values(), key=lambda n: n.name)

    def get(self, name: str) -> NodeInfo | None:
        with self._cond:
            return self._nodes.get(name)

    def wait_for_pod_cidr(
        self, name: str, stop: threading.Event, *, timeout: float | None = None, log_every: float = 30.0
    ) -> NodeInfo | None:
        """Node ``name`` once it has a podCIDR; ``None`` if ``stop`` is set (or ``timeout`` passes) first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        next_log = 0.0
        with self._cond:
            while not stop.is_set():
                info = self._nodes.get(name)
                if info is not None and info.pod_cidr:
                    return info
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    return None
                if now >= next_log:
                    log.info("node %s %s", name, "has no podCIDR yet" if info else "is not listed (yet)")
                    next_log = now + log_every
                wait = 0.5 if deadline is None else min(0.5, deadline - now)
                self._cond.wait(wait)  # short: ``stop`` is an Event, not this condition
        return None

    # syncing
    def enable_sync(self) -> None:
        """From now on every change calls ``sync``; calls it once now (and raises if that fails)."""
        self._syncing = True
        self.sync()

    def sync(self) -> None:
        """``sync(every node)`` now; raises what it raises."""
        with self._sync_lock:
            self._sync(self.nodes())

    def _changed(self) -> None:
        if not self._syncing:
            return
        try:
            self.sync()
        except Exception as exc:  # the periodic resync tries again
            log.warning("route sync failed: %s; retrying at the next resync", exc)

    # the informer's handlers (one thread, in event order)
    def _on_add(self, obj: Any) -> None:
        self._put(node_info(obj))

    def _on_update(self, old: Any, new: Any) -> None:
        self._put(node_info(new))

    def _on_delete(self, obj: Any) -> None:
        name = meta_namespace_key(obj)  # a node's key is its name; a tombstone keeps it
        with self._cond:
            gone = self._nodes.pop(name, None)
            self._cond.notify_all()
        if gone is not None:
            log.info("node %s left", name)
            self._changed()

    def _put(self, info: NodeInfo) -> None:
        with self._cond:
            if self._nodes.get(info.name) == info:
                return
            self._nodes[info.name] = info
            self._cond.notify_all()
        log.info("node %s: InternalIP %s, podCIDR %s", info.name, info.internal_ip, info.pod_cidr)
        self._changed()
