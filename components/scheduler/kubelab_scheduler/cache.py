"""The scheduler's cache (upstream ``internal/cache``): nodes and the pods on them, including
*assumed* pods, bound in this process but not yet seen bound by the informer.

A scheduling cycle assumes its pod on the chosen node before the bind is sent, so the next
cycle counts it and never overcommits the node while binds are in flight. The informer's
add of the bound pod confirms it; a failed bind forgets it. Assumed pods do not expire (as
upstream since 1.31): a bind either succeeds (confirmed) or fails (forgotten).

Pods bound to a node the cache has not seen yet are kept on a placeholder, so resources are
right when the node arrives. All methods are thread-safe; :meth:`snapshot` copies.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubelab_scheduler import pods
from kubelab_scheduler.nodeinfo import NodeInfo


class CacheError(RuntimeError):
    """A state the cache refuses (assuming a pod twice, forgetting one it never assumed)."""


@dataclass
class _PodState:
    pod: Mapping[str, Any]
    node: str
    assumed: bool


class Cache:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._nodes: dict[str, NodeInfo] = {}
        self._pods: dict[str, _PodState] = {}

    # -- nodes ---------------------------------------------------------------------------------
    def add_node(self, node: Mapping[str, Any]) -> None:
        with self._lock:
            name = str(node["metadata"]["name"])
            info = self._nodes.get(name)
            if info is None:
                self._nodes[name] = NodeInfo(node)
            else:
                info.node = node

    update_node = add_node

    def remove_node(self, node: Mapping[str, Any]) -> None:
        with self._lock:
            name = str(node["metadata"]["name"])
            info = self._nodes.get(name)
            if info is None:
                return
            if info.pods:  # a placeholder: the deletes of its pods are still coming
                info.node = {"metadata": {"name": name}, "kubelab": {"placeholder": True}}
            else:
                del self._nodes[name]

    # -- pods ----------------------------------------------------------------------------------
    def assume_pod(self, pod: Mapping[str, Any], node: str) -> None:
        """Count ``pod`` on ``node`` from now on (before its bind is sent)."""
        with self._lock:
            k = pods.key(pod)
            if k in self._pods:
                raise CacheError(f"pod {k} is already in the cache (on {self._pods[k].node}): not assumed twice")
            bound = {**pod, "spec": {**(pod.get("spec") or {}), "nodeName": node}}
            self._pods[k] = _PodState(bound, node, assumed=True)
            self._node(node).add_pod(bound)

    def forget_pod(self, pod: Mapping[str, Any]) -> None:
        """The bind failed: the assumed pod no longer counts."""
        with self._lock:
            k = pods.key(pod)
            state = self._pods.get(k)
            if state is None or not state.assumed:
                raise CacheError(f"pod {k} was not assumed: nothing to forget")
            self._remove(k, state)

    def is_assumed(self, pod: Mapping[str, Any]) -> bool:
        with self._lock:
            state = self._pods.get(pods.key(pod))
            return state is not None and state.assumed

    def add_pod(self, pod: Mapping[str, Any]) -> None:
        """The informer saw a bound pod: confirms an assumed one, or adds it."""
        with self._lock:
            k = pods.key(pod)
            state = self._pods.get(k)
            if state is not None:
                self._remove(k, state)
            node = pods.node_name(pod)
            self._pods[k] = _PodState(pod, node, assumed=False)
            self._node(node).add_pod(pod)

    update_pod = add_pod

    def remove_pod(self, pod: Mapping[str, Any]) -> None:
        with self._lock:
            k = pods.key(pod)
            state = self._pods.get(k)
            if state is not None:
                self._remove(k, state)

    def pod_count(self) -> int:
        with self._lock:
            return len(self._pods)

    # -- reading -------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, NodeInfo]:
        """Copies of every real node's info, by name, sorted: what one scheduling cycle sees."""
        with self._lock:
            return {n: self._nodes[n].copy() for n in sorted(self._nodes) if not _placeholder(self._nodes[n])}

    # -- inside --------------------------------------------------------------------------------
    def _node(self, name: str) -> NodeInfo:
        info = self._nodes.get(name)
        if info is None:
            info = self._nodes[name] = NodeInfo({"metadata": {"name": name}, "kubelab": {"placeholder": True}})
        return info

    def _remove(self, k: str, state: _PodState) -> None:
        del self._pods[k]
        info = self._nodes.get(state.node)
        if info is None:
            return
        info.remove_pod(state.pod)
        if not info.pods and _placeholder(info):
            del self._nodes[state.node]


def _placeholder(info: NodeInfo) -> bool:
    return bool((info.node.get("kubelab") or {}).get("placeholder"))
