"""The aggregated server over HTTP, as the aggregator, controllers and clients call it: who is
trusted (front proxy, client certificates, anonymous), watch semantics, paging, metadata views,
finalizers, dry runs, preconditions."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from kubelab_apiserver.testing import Running

GV = "/apis/books.kubelab.dev/v1alpha1"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
PARTIAL = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"
DISCOVERY = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def client(running: Running, who: str | None) -> httpx.Client:
    context = ssl.create_default_context(cadata=running.pki.ca_pem.decode())
    if who is not None:
        ident = running.pki.identities[who]
        context.load_cert_chain(ident.cert, ident.key)
    return httpx.Client(base_url=running.url, verify=context, timeout=30)


@pytest.fixture(scope="module")
def admin(aggregated: Running) -> Iterator[httpx.Client]:
    with client(aggregated, "admin") as c:
        yield c


def book(name: str, namespace: str = "http", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "books.kubelab.dev/v1alpha1",
        "kind": "Book",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"title": name, **spec},
    }


def books(namespace: str = "http") -> str:
    return f"{GV}/namespaces/{namespace}/books"


# -- who is asking ----------------------------------------------------------------------------------


def test_front_proxy_headers_are_trusted_only_from_the_front_proxy(aggregated: Running) -> None:
    claim = {"X-Remote-User": "mallory", "X-Remote-Group": "system:masters"}
    with client(aggregated, "proxy") as proxy:
        answer = proxy.get(books(), headers=claim)
        assert answer.status_code == 200, answer.text  # the real front proxy may say who the user is
        as_reader = proxy.post(
            books(), json=book("by-proxy"), headers={"X-Remote-User": "bob", "X-Remote-Group": "readers"}
        )
        assert as_reader.status_code == 403, as_reader.text
        assert 'User "bob" cannot create resource "books"' in as_reader.json()["message"]
        nobody = proxy.get(books())
        assert nobody.status_code == 403 and "system:anonymous" in nobody.text, (
            "a proxy without a user header is nobody"
        )
    for impostor in ("rogue-proxy", "other-proxy"):
        with client(aggregated, impostor) as rogue:
            answer = rogue.get(books(), headers=claim)
            # not trusted: the headers are ignored and the certificate is judged alone
            assert answer.status_code in (401, 403), (impostor, answer.text)
            assert "mallory" not in answer.text
    with client(aggregated, None) as anonymous:
        denied = anonymous.get(books(), headers=claim)
        assert denied.status_code == 403 and 'User "system:anonymous"' in denied.json()["message"], denied.text
        assert anonymous.get("/healthz").text == "ok"


def test_extra_headers_reach_admission_as_the_user(aggregated: Running) -> None:
    with client(aggregated, "proxy") as proxy:
        made = proxy.post(
            books(),
            json=book("authored-by-proxy"),
            headers={"X-Remote-User": "carol", "X-Remote-Group": "system:masters"},
        )
        assert made.status_code == 201, made.text
        assert made.json()["spec"]["author"] == "carol"


def test_client_certificates_name_the_user(aggregated: Running) -> None:
    with client(aggregated, "alice") as alice:
        assert alice.get(books()).status_code == 200
        denied = alice.post(books(), json=book("by-alice"))
        assert denied.status_code == 403 and denied.json()["reason"] == "Forbidden", denied.text


# -- discovery ----------------------------------------------------------------------------------------


def test_discovery_documents(admin: httpx.Client) -> None:
    group = admin.get("/apis/books.kubelab.dev").json()
    assert group["preferredVersion"]["groupVersion"] == "books.kubelab.dev/v1alpha1"
    resources = {r["name"]: r for r in admin.get(GV).json()["resources"]}
    assert set(resources) == {"books", "books/status", "libraries", "libraries/status"}
    assert resources["books"]["namespaced"] and not resources["libraries"]["namespaced"]
    answer = admin.get("/apis", headers={"Accept": DISCOVERY + ",application/json"})
    assert answer.headers["content-type"].startswith("application/json;g=apidiscovery.k8s.io;v=v2")
    version = answer.json()["items"][0]["versions"][0]
    assert {r["resource"]: r["scope"] for r in version["resources"]} == {"books": "Namespaced", "libraries": "Cluster"}
    assert admin.get("/apis").json()["kind"] == "APIGroupList"
    assert admin.get(GV, headers={"Accept": "application/vnd.kubernetes.protobuf"}).status_code == 406


# -- watch --------------------------------------------------------------------------------------------


def watch(
    running: Running, path: str, params: dict[str, str], n: int, *, accept: str = "application/json", during: Any = None
) -> list[dict[str, Any]]:
    """The first ``n`` events of a watch; ``during()`` runs once the watch is open."""
    events: list[dict[str, Any]] = []
    with (
        client(running, "admin") as c,
        c.stream("GET", path, params={"watch": "true", **params}, headers={"Accept": accept}) as answer,
    ):
        assert answer.status_code == 200, answer.read()
        opened = threading.Thread(target=during) if during else None
        if opened:
            opened.start()
        for line in answer.iter_lines():
            if line:
                events.append(json.loads(line))
            if len(events) >= n:
                break
        if opened:
            opened.join()
    return events


def test_watch_from_a_resource_version(aggregated: Running, admin: httpx.Client) -> None:
    first = admin.post(books("watching"), json=book("w1", "watching")).json()
    rv = first["metadata"]["resourceVersion"]
    admin.patch(
        f"{books('watching')}/w1",
        json={"spec": {"author": "someone"}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    admin.post(books("watching"), json=book("w2", "watching"))
    admin.delete(f"{books('watching')}/w1")
    events = watch(aggregated, books("watching"), {"resourceVersion": rv}, 3)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("MODIFIED", "w1"),
        ("ADDED", "w2"),
        ("DELETED", "w1"),
    ]
    revisions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert revisions == sorted(revisions) and revisions[0] > int(rv)


def test_watch_without_a_version_starts_with_the_current_state(aggregated: Running, admin: httpx.Client) -> None:
    admin.post(books("fresh"), json=book("f1", "fresh"))

    def later() -> None:
        admin.post(books("fresh"), json=book("f2", "fresh"))

    events = watch(aggregated, books("fresh"), {}, 2, during=later)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "f1"), ("ADDED", "f2")]


def test_watch_list_streams_the_state_then_a_bookmark(aggregated: Running, admin: httpx.Client) -> None:
    admin.post(books("streamed"), json=book("s1", "streamed"))
    events = watch(
        aggregated,
        books("streamed"),
        {
            "sendInitialEvents": "true",
            "allowWatchBookmarks": "true",
            "resourceVersionMatch": "NotOlderThan",
            "resourceVersion": "",
        },
        2,
    )
    assert events[0]["type"] == "ADDED" and events[1]["type"] == "BOOKMARK"
    assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    bad = admin.get(books("streamed"), params={"watch": "true", "sendInitialEvents": "true"})
    assert bad.status_code == 400


def test_watch_with_a_selector_reports_leaving_it(aggregated: Running, admin: httpx.Client) -> None:
    labelled = book("l1", "labels")
    labelled["metadata"]["labels"] = {"pick": "me"}
    admin.post(books("labels"), json=labelled)

    def unlabel() -> None:
        admin.patch(
            f"{books('labels')}/l1",
            json={"metadata": {"labels": {"pick": "no"}}},
            headers={"Content-Type": "application/merge-patch+json"},
        )

    events = watch(aggregated, books("labels"), {"labelSelector": "pick=me"}, 2, during=unlabel)
    assert [e["type"] for e in events] == ["ADDED", "DELETED"]


def test_watch_of_a_table_and_bookmarks(aggregated: Running, admin: httpx.Client) -> None:
    admin.post(books("tables"), json=book("t1", "tables"))
    events = watch(aggregated, books("tables"), {"allowWatchBookmarks": "true"}, 2, accept=TABLE)
    assert events[0]["object"]["kind"] == "Table" and events[0]["object"]["rows"][0]["cells"][0] == "t1"
    assert events[1]["type"] == "BOOKMARK", "an idle watch gets bookmarks (every second in this test)"


def test_compacted_history_is_gone(aggregated: Running, admin: httpx.Client) -> None:
    import asyncio

    made = admin.post(books("compacted"), json=book("c1", "compacted")).json()
    admin.post(books("compacted"), json=book("c2", "compacted"))
    storage = aggregated.server.stores[("books.kubelab.dev/v1alpha1", "books")].storage

    async def compact() -> None:
        await storage.compact(await storage.revision())

    asyncio.run(compact())
    events = watch(aggregated, books("compacted"), {"resourceVersion": made["metadata"]["resourceVersion"]}, 1)
    assert events[0]["type"] == "ERROR" and events[0]["object"]["code"] == 410, events
    assert events[0]["object"]["reason"] == "Expired"


# -- lists ------------------------------------------------------------------------------------------


def test_paging_holds_one_snapshot(admin: httpx.Client) -> None:
    for i in range(5):
        admin.post(books("paging"), json=book(f"p{i}", "paging"))
    first = admin.get(books("paging"), params={"limit": "2"}).json()
    assert [o["metadata"]["name"] for o in first["items"]] == ["p0", "p1"]
    assert first["metadata"]["remainingItemCount"] == 3
    admin.post(books("paging"), json=book("p9", "paging"))
    names = []
    token = first["metadata"]["continue"]
    while token:
        page = admin.get(books("paging"), params={"limit": "2", "continue": token}).json()
        assert page["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
        names += [o["metadata"]["name"] for o in page["items"]]
        token = page["metadata"].get("continue", "")
    assert names == ["p2", "p3", "p4"], "p9 came after the first page's snapshot"
    assert admin.get(books("paging"), params={"continue": "garbage"}).status_code == 400


def test_metadata_only_lists(admin: httpx.Client) -> None:
    admin.post(books("partial"), json=book("m1", "partial"))
    answer = admin.get(books("partial"), headers={"Accept": PARTIAL + ", application/json"})
    body = answer.json()
    assert body["kind"] == "PartialObjectMetadataList" and "spec" not in body["items"][0]
    assert body["items"][0]["metadata"]["name"] == "m1"
    every = admin.get(f"{GV}/books", headers={"Accept": PARTIAL}).json()
    assert any(i["metadata"]["namespace"] == "partial" for i in every["items"]), "all namespaces at once"


# -- writes -----------------------------------------------------------------------------------------


def test_finalizers_hold_deletion(admin: httpx.Client) -> None:
    held = book("held", "finalizers")
    held["metadata"]["finalizers"] = ["kubelab.dev/keep"]
    admin.post(books("finalizers"), json=held)
    deleting = admin.delete(f"{books('finalizers')}/held")
    assert deleting.status_code == 200 and deleting.json()["metadata"]["deletionTimestamp"]
    assert admin.get(f"{books('finalizers')}/held").status_code == 200, "kept while a finalizer is there"
    released = admin.patch(
        f"{books('finalizers')}/held",
        json={"metadata": {"finalizers": None}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert released.status_code == 200, released.text
    assert admin.get(f"{books('finalizers')}/held").status_code == 404


def test_dry_run_stores_nothing(admin: httpx.Client) -> None:
    made = admin.post(books("dry"), params={"dryRun": "All"}, json=book("dry", "dry"))
    assert made.status_code == 201 and made.json()["spec"]["author"] == "kubelab-admin"
    assert admin.get(f"{books('dry')}/dry").status_code == 404


def test_stale_update_is_a_conflict(admin: httpx.Client) -> None:
    made = admin.post(books("cas"), json=book("cas", "cas")).json()
    newer = admin.put(f"{books('cas')}/cas", json={**made, "spec": {"title": "newer"}})
    assert newer.status_code == 200
    stale = admin.put(f"{books('cas')}/cas", json={**made, "spec": {"title": "stale"}})
    assert stale.status_code == 409 and stale.json()["reason"] == "Conflict", stale.text
    assert admin.get(f"{books('cas')}/cas").json()["spec"]["title"] == "newer"
    same = admin.put(f"{books('cas')}/cas", json=newer.json())
    assert same.json()["metadata"]["resourceVersion"] == newer.json()["metadata"]["resourceVersion"], (
        "an update that changes nothing writes nothing"
    )
    gone = admin.request("DELETE", f"{books('cas')}/cas", json={"preconditions": {"uid": "not-its-uid"}})
    assert gone.status_code == 409 and "Precondition failed" in gone.json()["message"]


def test_banned_titles_are_refused(admin: httpx.Client) -> None:
    library = {
        "apiVersion": "books.kubelab.dev/v1alpha1",
        "kind": "Library",
        "metadata": {"name": "central"},
        "spec": {"bannedTitles": ["Forbidden Book"]},
    }
    assert admin.post(f"{GV}/libraries", json=library).status_code == 201
    refused = admin.post(books("banned"), json={**book("fb", "banned"), "spec": {"title": "Forbidden Book"}})
    assert refused.status_code == 403, refused.text
    assert 'the title "Forbidden Book" is banned by library "central"' in refused.json()["message"]
    assert admin.delete(f"{GV}/libraries/central").status_code == 200
    assert (
        admin.post(books("banned"), json={**book("fb", "banned"), "spec": {"title": "Forbidden Book"}}).status_code
        == 201
    )


def test_wrong_kind_and_namespace_are_bad_requests(admin: httpx.Client) -> None:
    wrong_kind = {**book("k", "kinds"), "kind": "Library"}
    assert admin.post(books("kinds"), json=wrong_kind).status_code == 400
    elsewhere = book("n", "somewhere-else")
    answer = admin.post(books("kinds"), json=elsewhere)
    assert answer.status_code == 400 and "does not match the namespace" in answer.json()["message"]
    assert admin.post(f"{GV}/namespaces/kinds/libraries", json={}).status_code == 404
    assert (
        admin.patch(
            f"{books('kinds')}/missing", json={}, headers={"Content-Type": "application/merge-patch+json"}
        ).status_code
        == 404
    )
    assert admin.patch(f"{books('kinds')}/x", content=b"{}", headers={"Content-Type": "text/plain"}).status_code == 415
