from __future__ import annotations

import threading

import pytest

from kubelab_client.indexers import NAMESPACE_INDEX, label_index, owner_uid_index
from kubelab_client.keys import DeletedFinalStateUnknown, meta_namespace_key, split_meta_namespace_key
from kubelab_client.store import Indexer, ThreadSafeStore, UnknownIndexError


def cm(ns: str, name: str, rv: str = "1", **labels: str) -> dict:
    return {"metadata": {"name": name, "namespace": ns, "resourceVersion": rv, "labels": labels}, "data": {}}


def test_keys() -> None:
    assert meta_namespace_key(cm("a", "x")) == "a/x"
    assert meta_namespace_key({"metadata": {"name": "node1"}}) == "node1"
    assert meta_namespace_key(DeletedFinalStateUnknown("a/x", None)) == "a/x"
    assert split_meta_namespace_key("a/x") == ("a", "x")
    assert split_meta_namespace_key("node1") == ("", "node1")
    with pytest.raises(ValueError):
        split_meta_namespace_key("a/b/c")
    with pytest.raises(ValueError):
        meta_namespace_key({"metadata": {}})


def test_add_get_update_delete_list() -> None:
    store = Indexer()
    store.add(cm("a", "x"))
    store.add(cm("b", "y"))
    assert store.get_by_key("a/x") == cm("a", "x")
    assert store.get(cm("b", "y")) is not None
    store.update(cm("a", "x", rv="2"))
    assert store.get_by_key("a/x")["metadata"]["resourceVersion"] == "2"
    store.delete(cm("a", "x"))
    assert store.get_by_key("a/x") is None
    assert store.list_keys() == ["b/y"]
    assert len(store) == 1
    store.delete(cm("a", "nope"))  # deleting what is not there is fine


def test_namespace_index_built_in_and_follows_updates() -> None:
    store = Indexer()
    for ns, name in [("a", "1"), ("a", "2"), ("b", "3")]:
        store.add(cm(ns, name))
    assert [o["metadata"]["name"] for o in store.by_index(NAMESPACE_INDEX, "a")] == ["1", "2"]
    assert store.list_index_values(NAMESPACE_INDEX) == ["a", "b"]
    store.delete(cm("a", "1"))
    store.delete(cm("a", "2"))
    assert store.by_index(NAMESPACE_INDEX, "a") == []
    assert store.list_index_values(NAMESPACE_INDEX) == ["b"]  # empty values are dropped


def test_custom_index_moves_on_label_change() -> None:
    store = Indexer(indexers={"team": label_index("team")})
    store.add(cm("a", "x", team="red"))
    store.add(cm("a", "y", team="blue"))
    store.add(cm("a", "z"))  # no label: not indexed
    assert store.index_keys("team", "red") == ["a/x"]
    store.update(cm("a", "x", rv="2", team="blue"))
    assert store.index_keys("team", "red") == []
    assert store.index_keys("team", "blue") == ["a/x", "a/y"]
    assert [o["metadata"]["name"] for o in store.index("team", cm("q", "q", team="blue"))] == ["x", "y"]
    with pytest.raises(UnknownIndexError):
        store.by_index("nope", "x")


def test_add_indexers_later_indexes_existing_items() -> None:
    store = Indexer()
    owned = cm("a", "x")
    owned["metadata"]["ownerReferences"] = [{"uid": "u-1"}]
    store.add(owned)
    store.add_indexers({"owner": owner_uid_index})
    assert store.index_keys("owner", "u-1") == ["a/x"]
    with pytest.raises(ValueError):
        store.add_indexers({"owner": owner_uid_index})


def test_replace_reports_changes_and_rebuilds_indices() -> None:
    store = Indexer(indexers={"team": label_index("team")})
    store.add(cm("a", "keep", rv="1", team="red"))
    store.add(cm("a", "change", rv="1", team="red"))
    store.add(cm("a", "gone", rv="1", team="red"))
    result = store.replace([cm("a", "keep", rv="1", team="red"), cm("a", "change", rv="5"), cm("a", "new", rv="6")])
    assert (result.added, result.updated, result.deleted, result.unchanged) == (
        ["a/new"],
        ["a/change"],
        ["a/gone"],
        1,
    )
    assert sorted(store.list_keys()) == ["a/change", "a/keep", "a/new"]
    assert store.index_keys("team", "red") == ["a/keep"]


def test_thread_safe_under_concurrent_writers() -> None:
    store = ThreadSafeStore({NAMESPACE_INDEX: lambda o: [o["metadata"]["namespace"]]})
    barrier = threading.Barrier(8)

    def writer(n: int) -> None:
        barrier.wait()
        for i in range(300):
            key = f"ns{i % 5}/o{n}-{i}"
            store.add(key, cm(f"ns{i % 5}", f"o{n}-{i}"))
            if i % 3 == 0:
                store.delete(key)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store) == 8 * 200
    assert sum(len(store.by_index(NAMESPACE_INDEX, f"ns{k}")) for k in range(5)) == len(store)
