"""2.4 to 2.6: the typed client and one change through every layer of client-go's architecture (2.4), a custom
resource through the dynamic client only (2.5), the REST client: optimistic concurrency and server-side apply (2.6)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kubelab_client.dynamic import DynamicClient
from kubelab_client.errors import ApiError
from kubelab_client.informer import HandlerFuncs, SharedInformer
from kubelab_client.keys import meta_namespace_key
from kubelab_client.kube import Api
from kubelab_client.listwatch import ListOptions, ListPage, ListWatch, WatchEvent, WatchOptions, WatchStream
from kubelab_client.resources import CONFIGMAPS, Resource
from kubelab_client.workqueue import RateLimitingQueue
from kubelab_labkit.outputs import capture
from kubelab_labkit.waiting import eventually

CRD_NAME = "widgets.kubelab.dev"
CRDS = Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False)
WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": CRD_NAME, "labels": {"app.kubernetes.io/part-of": "kube-dev-lab"}},
    "spec": {
        "group": "kubelab.dev",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {"size": {"type": "integer", "minimum": 1}, "color": {"type": "string"}},
                                "required": ["size"],
                            },
                            "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}},
                        },
                    }
                },
            }
        ],
    },
}


def _delete_crd(api: Api) -> None:
    try:
        api.delete(CRDS, CRD_NAME)
    except ApiError as exc:
        if not exc.is_not_found:
            raise


def _crd_gone(api: Api) -> bool:
    try:
        api.get(CRDS, CRD_NAME)
    except ApiError as exc:
        return exc.is_not_found
    return False


@pytest.fixture(scope="module")
def widget_crd(api: Api) -> Iterator[str]:
    _delete_crd(api)
    eventually(lambda: _crd_gone(api), timeout=60, what="a leftover CRD is gone")
    api.create(CRDS, WIDGET_CRD)

    def established() -> bool:
        conditions = api.get(CRDS, CRD_NAME).get("status", {}).get("conditions") or []
        return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)

    eventually(established, timeout=30, what=f"CRD {CRD_NAME} Established")
    yield CRD_NAME
    _delete_crd(api)


class TracingWatch:
    """A ListerWatcher that notes the moment each watch event arrives from the API server."""

    def __init__(self, inner: ListWatch, trace: Callable[[str, str], None]) -> None:
        self.inner, self.trace = inner, trace

    def list(self, options: ListOptions) -> ListPage:
        return self.inner.list(options)

    def watch(self, options: WatchOptions) -> WatchStream:
        stream = self.inner.watch(options)
        trace = self.trace

        class Traced:
            def __iter__(self) -> Iterator[WatchEvent]:
                for event in stream:
                    if event.type != "BOOKMARK":
                        trace("1 watch event from the API server (REST client: ListWatch)", _rv(event.obj))
                    yield event

            def close(self) -> None:
                stream.close()

        return Traced()


def _rv(obj: Any) -> str:
    return f"{obj['metadata']['name']} rv={obj['metadata']['resourceVersion']}"


def test_11_typed_client(api: Api, namespace: str) -> None:
    """The typed client (generated CoreV1Api and models): create and read a ConfigMap, list pods.

    Hint (2.4): kubelab_client.typed (components/client/kubelab_client/typed.py: core_v1, call,
    create_config_map, read_config_map, pod_names) wraps kubernetes.client.CoreV1Api on the same ApiClient;
    its ApiException becomes ApiError (kubelab_client/errors.py).
    """
    from kubelab_client import typed

    created = typed.create_config_map(api, namespace, "typed", {"greeting": "hello"})
    assert created.metadata is not None and created.metadata.uid
    read = typed.read_config_map(api, namespace, "typed")
    assert read.data == {"greeting": "hello"}
    assert any(name.startswith("kube-system/kube-apiserver-") for name in typed.pod_names(api, "kube-system"))
    with pytest.raises(ApiError) as missing:
        typed.read_config_map(api, namespace, "no-such-configmap")
    assert missing.value.is_not_found and missing.value.reason == "NotFound"


def test_12_one_change_through_every_layer(api: Api, namespace: str) -> None:
    """One ConfigMap update travels the layers of 2.4's diagram in order: the watch event (REST client,
    ListWatch), the informer's cache (Reflector → DeltaFIFO → Indexer, updated before any handler is told),
    the event handler, the workqueue (a key, not the object), a worker that reads the object back from the
    cache by its key.

    Hint (2.4): the informer pops each delta from the DeltaFIFO, applies it to its Indexer, and only then
    notifies the handlers; a handler enqueues `namespace/name` (keys.meta_namespace_key), and the worker
    reads the current object from the Indexer (lister) by that key, never the event's copy.
    """
    stop = threading.Event()
    api.create(CONFIGMAPS, {"metadata": {"name": "traced", "labels": {"lab": "trace"}}, "data": {"n": "0"}}, namespace)
    lock = threading.Lock()
    steps: list[tuple[float, str, str]] = []

    def trace(step: str, detail: str) -> None:
        with lock:
            steps.append((time.monotonic(), step, detail))

    informer = SharedInformer(
        TracingWatch(ListWatch(api, CONFIGMAPS, namespace=namespace, label_selector="lab=trace"), trace),
        name="lab-trace",
    )
    queue: RateLimitingQueue[str] = RateLimitingQueue(name="lab-trace")

    def on_update(old: Any, new: Any) -> None:
        cached = informer.indexer.get_by_key(meta_namespace_key(new))
        trace("2 informer cache (Indexer) holds it", _rv(cached) if cached else "absent")
        trace("3 event handler on_update", f"{_rv(old)} -> {_rv(new)}")
        queue.add(meta_namespace_key(new))
        trace("4 workqueue add", meta_namespace_key(new))

    informer.add_event_handler(HandlerFuncs(update=on_update))
    informer.start(stop)
    try:
        assert informer.wait_for_cache_sync(30)
        updated = api.patch(CONFIGMAPS, "traced", {"data": {"n": "1"}}, namespace)
        key, shut = queue.get(timeout=20)
        assert key is not None and not shut, "no key reached the workqueue within 20 s"
        obj = informer.indexer.get_by_key(key)
        trace("5 worker: key from the queue, object from the cache", f"{key} {_rv(obj) if obj else 'absent'}")
        queue.done(key)
    finally:
        stop.set()
        queue.shutdown()
    rv = updated["metadata"]["resourceVersion"]
    got = [step for _, step, _ in steps]
    assert got == sorted(got) and len(got) == 5, "\n".join(f"{s}: {d}" for _, s, d in steps)
    assert all(f"rv={rv}" in detail for _, step, detail in steps if not step.startswith("4")), steps
    assert key == f"{namespace}/traced"
    start = steps[0][0]
    capture(
        "client/trace", "\n".join(f"+{(when - start) * 1000:6.1f} ms  {step}: {detail}" for when, step, detail in steps)
    )


def test_13_custom_resource_through_the_dynamic_client(api: Api, namespace: str, widget_crd: str) -> None:
    """A Widget (CRD made here) is created, listed, patched, applied and its status set through the dynamic client.

    Hint (2.5): discovery (/apis/kubelab.dev/v1) gives the plural, kind and scope (Api.discover in
    kubelab_client/kube.py, DynamicClient.resource in kubelab_client/dynamic.py); no generated class exists
    for Widget; the schema rejects size < 1 (422). `kubectl get --raw /apis/kubelab.dev/v1`,
    `kubectl get crd widgets.kubelab.dev -o yaml`.
    """
    dynamic = DynamicClient(api)

    def discovered() -> bool:
        dynamic.invalidate()
        try:
            return dynamic.resource(widget_crd).resource.kind == "Widget"
        except ApiError:
            return False

    eventually(discovered, timeout=30, what="discovery serves widgets.kubelab.dev")
    widgets = dynamic.resource(widget_crd).namespace(namespace)
    w = widgets.create(
        {"apiVersion": "kubelab.dev/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3}}
    )
    assert w["metadata"]["uid"] and w["spec"] == {"size": 3}
    assert [i["metadata"]["name"] for i in widgets.list()["items"]] == ["w1"]
    assert widgets.patch("w1", {"spec": {"color": "blue"}})["spec"] == {"size": 3, "color": "blue"}
    applied = widgets.apply(
        {"apiVersion": "kubelab.dev/v1", "kind": "Widget", "metadata": {"name": "w2"}, "spec": {"size": 5}},
        field_manager="lab-widgets",
    )
    assert applied["spec"] == {"size": 5}
    current = widgets.get("w1")
    current["status"] = {"ready": True}
    assert widgets.update_status(current)["status"] == {"ready": True}
    with pytest.raises(ApiError) as invalid:
        widgets.create(
            {"apiVersion": "kubelab.dev/v1", "kind": "Widget", "metadata": {"name": "bad"}, "spec": {"size": 0}}
        )
    assert invalid.value.status == 422 and "spec.size" in invalid.value.message, invalid.value
    widgets.delete("w1")
    assert [i["metadata"]["name"] for i in widgets.list()["items"]] == ["w2"]
    from kubernetes import client as k8s

    assert not any("KubelabDev" in name for name in dir(k8s)), "the typed client cannot know Widget"


def test_14_rest_client_and_optimistic_concurrency(api: Api, namespace: str) -> None:
    """The REST client (any verb, any path, JSON): a stale PUT is 409 Conflict; merge and JSON patches.

    Hint (2.6): Api.request(method, path, query, body, content_type) and Api.patch in
    components/client/kubelab_client/kube.py; PUT carries metadata.resourceVersion, and a 409 is
    ApiError.is_conflict (kubelab_client/errors.py). `kubectl -n kubelab-client get configmap rest -o yaml`.
    """
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    first = api.request("POST", path, body={"metadata": {"name": "rest"}, "data": {"n": "1"}})
    second = dict(first, data={"n": "2"})
    updated = api.request("PUT", f"{path}/rest", body=second)
    assert updated["metadata"]["resourceVersion"] != first["metadata"]["resourceVersion"]
    with pytest.raises(ApiError) as stale:
        api.request("PUT", f"{path}/rest", body=dict(first, data={"n": "3"}))  # first's RV is stale now
    assert stale.value.is_conflict and "the object has been modified" in stale.value.message
    merged = api.patch(CONFIGMAPS, "rest", {"data": {"m": "x"}}, namespace)
    assert merged["data"] == {"n": "2", "m": "x"}
    ops = [{"op": "test", "path": "/data/n", "value": "2"}, {"op": "remove", "path": "/data/m"}]
    assert api.patch(CONFIGMAPS, "rest", ops, namespace, patch_type="json")["data"] == {"n": "2"}
    api.delete(CONFIGMAPS, "rest", namespace)
    with pytest.raises(ApiError) as gone:
        api.get(CONFIGMAPS, "rest", namespace)
    assert gone.value.is_not_found


def test_15_server_side_apply_conflicts(api: Api, namespace: str) -> None:
    """Server-side apply records field owners; another manager setting an owned field gets 409 until it forces.

    Hint (2.6): PATCH application/apply-patch+yaml ?fieldManager=NAME[&force=true] (Api.apply in
    kubelab_client/kube.py, ResourceClient.apply in dynamic.py); read metadata.managedFields with
    `kubectl -n kubelab-client get configmap ssa -o yaml --show-managed-fields`.
    """
    client = DynamicClient(api).resource(CONFIGMAPS).namespace(namespace)
    intent = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"owner": "a", "a": "1"}}
    applied = client.apply(intent, field_manager="lab-a")
    managers = {m["manager"]: m for m in applied["metadata"]["managedFields"]}
    assert managers["lab-a"]["operation"] == "Apply" and "f:a" in managers["lab-a"]["fieldsV1"]["f:data"]
    other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"owner": "b", "b": "2"}}
    with pytest.raises(ApiError) as conflict:
        client.apply(other, field_manager="lab-b")
    assert conflict.value.is_conflict and 'conflict with "lab-a"' in conflict.value.message, conflict.value
    assert ".data.owner" in conflict.value.message
    forced = client.apply(other, field_manager="lab-b", force=True)
    assert forced["data"] == {"owner": "b", "a": "1", "b": "2"}
    owners = {m["manager"]: m["fieldsV1"].get("f:data", {}) for m in forced["metadata"]["managedFields"]}
    assert "f:owner" in owners["lab-b"] and "f:owner" not in owners["lab-a"], owners
    # a manager that drops a field from its intent releases it: lab-a's "a" goes away
    released = client.apply({**intent, "data": {}}, field_manager="lab-a")
    assert released["data"] == {"owner": "b", "b": "2"}, released["data"]
