"""The cache: assumed pods count at once; confirm, forget; placeholders for unknown nodes."""

from __future__ import annotations

import pytest

from kubelab_scheduler.cache import Cache, CacheError

from .builders import node, pod


def test_assume_confirm_forget() -> None:
    cache = Cache()
    cache.add_node(node("n1", cpu="1"))
    p = pod("a", "600m")
    cache.assume_pod(p, "n1")
    assert cache.snapshot()["n1"].requested.get("cpu") == 600 and cache.is_assumed(p)
    with pytest.raises(CacheError, match="not assumed twice"):
        cache.assume_pod(p, "n1")
    bound = pod("a", "600m", node_name="n1")
    cache.add_pod(bound)  # the informer saw the bind
    assert not cache.is_assumed(p) and cache.snapshot()["n1"].requested.get("cpu") == 600
    cache.assume_pod(pod("b", "300m"), "n1")
    cache.forget_pod(pod("b"))
    assert cache.snapshot()["n1"].requested.get("cpu") == 600
    with pytest.raises(CacheError, match="was not assumed"):
        cache.forget_pod(pod("a"))


def test_pods_on_unknown_nodes_wait_for_the_node() -> None:
    cache = Cache()
    cache.add_pod(pod("early", "1", node_name="late"))
    assert cache.snapshot() == {}
    cache.add_node(node("late"))
    assert cache.snapshot()["late"].requested.get("cpu") == 1000
    cache.remove_node(node("late"))
    assert cache.snapshot() == {}
    cache.remove_pod(pod("early", node_name="late"))
    assert cache.pod_count() == 0


def test_snapshot_is_a_copy() -> None:
    cache = Cache()
    cache.add_node(node("n1"))
    snap = cache.snapshot()
    cache.assume_pod(pod("a", "1"), "n1")
    assert snap["n1"].requested.get("cpu") == 0
