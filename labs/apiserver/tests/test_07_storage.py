"""Checkpoint 7 (book 7.5): the aggregated server's own etcd behind one storage interface:
resourceVersions, optimistic concurrency, watch from a version, compaction and a restart."""

from __future__ import annotations

import json

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.waiting import eventually

from .aggregatedlab import GV, NS, SERVICE, book, clear, etcdctl, raw, server_pod, watch_lines


def test_07_versions_conflicts_watch_compaction(kubectl: Kubectl, namespace: str) -> None:
    """Each write gets a larger resourceVersion (etcd's revision); a write with a stale one is 409
    Conflict; a watch from a resourceVersion replays what came after it; after etcd compacts that
    history the same watch ends with 410 Expired and a fresh list works; the objects outlive a restart
    of the server (they live in its etcd).

    Hint (7.5): kubelab_apiserver/storage/etcd.py (transactions that compare mod_revision) and
    interface.py; `kubectl -n kubelab-apiserver exec deploy/kubelab-aggregated -c etcd -- /usr/local/bin/etcdctl
    get --prefix /registry/books.kubelab.dev --keys-only` lists what is stored.
    """
    clear(kubectl, namespace)
    made = json.loads(kubectl.run("create", "-f", "-", "-o", "json", stdin=json.dumps(book("v", namespace))))
    first = int(made["metadata"]["resourceVersion"])
    kubectl.run("-n", namespace, "patch", "book", "v", "--type=merge", "-p", '{"spec":{"author":"a"}}')
    second = kubectl.json("-n", namespace, "get", "book", "v")
    assert int(second["metadata"]["resourceVersion"]) > first
    stale = kubectl.attempt("replace", "-f", "-", stdin=json.dumps(made))
    assert stale.returncode != 0 and "the object has been modified" in stale.stderr, stale.stderr
    kubectl.run("create", "-f", "-", stdin=json.dumps(book("w", namespace)))

    path = f"{GV}/namespaces/{namespace}/books"
    events = watch_lines(kubectl, f"{path}?watch=true&resourceVersion={first}", 2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("MODIFIED", "v"), ("ADDED", "w")]
    stored = etcdctl(kubectl, "get", "--prefix", f"/registry/books.kubelab.dev/books/{namespace}/", "--keys-only")
    assert f"/registry/books.kubelab.dev/books/{namespace}/v" in stored.split()

    status = json.loads(etcdctl(kubectl, "endpoint", "status", "-w", "json"))
    revision = status[0]["Status"]["header"]["revision"]
    etcdctl(kubectl, "compact", str(revision))
    gone = watch_lines(kubectl, f"{path}?watch=true&resourceVersion={first}", 1)
    assert gone[0]["type"] == "ERROR" and gone[0]["object"]["code"] == 410, gone
    relisted = raw(kubectl, path)  # the server's list (kubectl get -o json makes a List without a version)
    assert sorted(o["metadata"]["name"] for o in relisted["items"]) == ["v", "w"], "a fresh list works"
    kubectl.run("create", "-f", "-", stdin=json.dumps(book("x", namespace)))
    fresh = watch_lines(kubectl, f"{path}?watch=true&resourceVersion={relisted['metadata']['resourceVersion']}", 1)
    assert (fresh[0]["type"], fresh[0]["object"]["metadata"]["name"]) == ("ADDED", "x"), "watching from the relist"

    pod = server_pod(kubectl)
    kubectl.run("-n", NS, "exec", pod, "-c", "server", "--", "python3", "-c", "import os; os.kill(1, 15)")

    def restarted() -> int:
        status = kubectl.json("-n", NS, "get", "pod", pod)["status"]
        server = next(c for c in status["containerStatuses"] if c["name"] == "server")
        assert server["restartCount"] >= 1 and server["ready"], server
        return int(server["restartCount"])

    eventually(restarted, timeout=120, what=f"{SERVICE}'s server container restarted and Ready")
    again = eventually(
        lambda: kubectl.json("-n", namespace, "get", "book", "v"), timeout=60, what="the Book back after the restart"
    )
    assert again["metadata"]["resourceVersion"] == second["metadata"]["resourceVersion"], "same object, same version"
