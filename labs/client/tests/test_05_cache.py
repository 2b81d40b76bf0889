"""2.7 The cache: an informer's Indexer, its index functions and listers, against the real API server.

These checkpoints grade ``kubelab_client`` as imported (yours with ``--impl PATH``): its store,
index functions, label selectors and the informer that keeps the store.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from kubelab_client.indexers import NAMESPACE_INDEX, label_index, meta_namespace_index, owner_uid_index
from kubelab_client.informer import SharedInformer
from kubelab_client.kube import Api
from kubelab_client.listwatch import ListWatch
from kubelab_client.objects import name as name_of
from kubelab_client.resources import CONFIGMAPS
from kubelab_client.selectors import label_matcher
from kubelab_labkit.outputs import capture
from kubelab_labkit.waiting import eventually

BY_APP, BY_OWNER = "by-app", "by-owner"


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def _configmap(name: str, labels: dict[str, str], owner: dict[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {"lab": "cache", **labels}}
    if owner is not None:
        meta["ownerReferences"] = [
            {"apiVersion": "v1", "kind": "ConfigMap", "name": name_of(owner), "uid": owner["metadata"]["uid"]}
        ]
    return {"metadata": meta, "data": {"n": "0"}}


def test_16_the_cache_indexes_and_lists(api: Api, namespace: str, stop: threading.Event) -> None:
    """An informer's Indexer with three index functions (namespace, the `app` label, owner UID): each index
    holds exactly the objects the API server holds for it, follows a relabel and a delete, and a label
    selector run on the cache (a lister) answers what the API server's labelSelector answers.

    Hint (2.7): the store files each object under every value its index functions return and must
    unfile it from the old values on update and delete (ThreadSafeStore._reindex); by_index(name, value)
    and list_index_values(name) read the indices, label_matcher(selector) filters a list of the cache.
    """
    parent = api.create(CONFIGMAPS, _configmap("parent", {"app": "web"}), namespace)
    specs = {
        "web-a": ({"app": "web"}, parent),
        "web-b": ({"app": "web", "tier": "front"}, parent),
        "db-a": ({"app": "db"}, None),
        "db-b": ({"app": "db", "tier": "back"}, None),
        "plain": ({}, None),
    }
    for name, (labels, owner) in specs.items():
        api.create(CONFIGMAPS, _configmap(name, labels, owner), namespace)
    informer = SharedInformer(
        ListWatch(api, CONFIGMAPS, namespace=namespace, label_selector="lab=cache"),
        name="lab-cache",
        indexers={NAMESPACE_INDEX: meta_namespace_index, BY_APP: label_index("app"), BY_OWNER: owner_uid_index},
    )
    informer.start(stop)
    assert informer.wait_for_cache_sync(30), "the informer's first list never arrived"
    cache = informer.indexer

    def names(objs: list[Any]) -> list[str]:
        return sorted(name_of(o) for o in objs)

    def server(selector: str) -> list[str]:
        listed = api.request("GET", CONFIGMAPS.collection_path(namespace), {"labelSelector": selector})
        return names(listed["items"])

    assert names(cache.by_index(NAMESPACE_INDEX, namespace)) == server("lab=cache")
    assert names(cache.by_index(BY_APP, "web")) == server("lab=cache,app=web") == ["parent", "web-a", "web-b"]
    assert names(cache.by_index(BY_APP, "db")) == server("lab=cache,app=db")
    assert sorted(cache.list_index_values(BY_APP)) == ["db", "web"], "an object without the label is in no index"
    assert names(cache.by_index(BY_OWNER, parent["metadata"]["uid"])) == ["web-a", "web-b"]
    assert names(cache.index(BY_APP, cache.get_by_key(f"{namespace}/db-a"))) == ["db-a", "db-b"]

    api.patch(CONFIGMAPS, "web-b", {"metadata": {"labels": {"app": "db"}}}, namespace)
    api.delete(CONFIGMAPS, "db-a", namespace)
    eventually(
        lambda: names(cache.by_index(BY_APP, "db")) == ["db-b", "web-b"],
        timeout=20,
        what=f"index {BY_APP}=db after a relabel and a delete: {names(cache.by_index(BY_APP, 'db'))}",
    )
    assert names(cache.by_index(BY_APP, "web")) == server("lab=cache,app=web") == ["parent", "web-a"]
    assert names(cache.by_index(BY_APP, "db")) == server("lab=cache,app=db")
    assert f"{namespace}/db-a" not in cache.list_keys()

    for selector in ("app in (web,db),tier", "app!=web", "!tier", "tier notin (front),app"):
        on_cache = names([o for o in cache.list() if label_matcher(selector)(o)])
        assert on_cache == server(f"lab=cache,{selector}"), f"lister with {selector!r}"
    capture(
        "client/cache",
        f"cache: {len(cache.list())} objects; {BY_APP} values {sorted(cache.list_index_values(BY_APP))}; "
        f"owner {parent['metadata']['uid'][:8]}… owns {names(cache.by_index(BY_OWNER, parent['metadata']['uid']))}",
    )
