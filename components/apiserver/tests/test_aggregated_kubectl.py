"""kubectl against the aggregated server directly (client certificates, no kube-apiserver):
discovery, create/get/list with Tables, apply, patch of each type, status, selectors, delete."""

from __future__ import annotations

import json

from .conftest import Kubectl

BOOK = """
apiVersion: books.kubelab.dev/v1alpha1
kind: Book
metadata:
  name: {name}
  namespace: {namespace}
  labels: {{shelf: {shelf}}}
spec:
  title: {title}
  chapters:
  - {{number: 1, title: Building Kubernetes}}
  - {{number: 2, title: Client libraries}}
"""


def book(name: str, title: str, namespace: str = "default", shelf: str = "a") -> str:
    return BOOK.format(name=name, title=title, namespace=namespace, shelf=shelf)


def test_discovery_lists_both_resources(kubectl: Kubectl) -> None:
    out = kubectl.run("api-resources", "--api-group=books.kubelab.dev", "--no-headers").stdout
    rows = sorted(line.split()[0] for line in out.splitlines())
    assert rows == ["books", "libraries"], out
    assert "bk" in out and "lib" in out
    versions = kubectl.run("api-versions").stdout.split()
    assert "books.kubelab.dev/v1alpha1" in versions


def test_create_get_list_as_table(kubectl: Kubectl) -> None:
    kubectl.run("create", "-f", "-", stdin=book("k8s-dev-guide", "Kubernetes开发指南"))
    table = kubectl.run("get", "books", "-n", "default").stdout.splitlines()
    assert table[0].split() == ["NAME", "TITLE", "AUTHOR", "CHAPTERS", "PHASE", "AGE"], table
    row = table[1].split()
    assert row[:4] == ["k8s-dev-guide", "Kubernetes开发指南", "kubelab-admin", "2"], table
    got = kubectl.json("get", "book", "k8s-dev-guide", "-n", "default")
    assert got["spec"]["author"] == "kubelab-admin", "the admission chain defaults the author to the user"
    assert got["metadata"]["uid"] and got["metadata"]["generation"] == 1
    wide = kubectl.run("get", "bk", "-n", "default", "-o", "wide").stdout
    assert "READERS" in wide.splitlines()[0]


def test_apply_creates_then_updates_and_reports_conflicts(kubectl: Kubectl) -> None:
    manifest = book("applied", "Apply me", shelf="b")
    kubectl.run("apply", "--server-side", "-f", "-", stdin=manifest)
    changed = manifest.replace("Apply me", "Applied twice")
    kubectl.run("apply", "--server-side", "-f", "-", stdin=changed)
    got = kubectl.json("get", "book", "applied", "-n", "default", "--show-managed-fields")
    assert got["spec"]["title"] == "Applied twice"
    managers = {m["manager"]: m["operation"] for m in got["metadata"]["managedFields"]}
    assert managers.get("kubectl") == "Apply", managers
    clash = kubectl.run(
        "apply",
        "--server-side",
        "--field-manager=someone-else",
        "-f",
        "-",
        stdin=manifest.replace("Apply me", "Mine now"),
        check=False,
    )
    assert clash.returncode != 0 and "conflict" in clash.stderr.lower() and ".spec.title" in clash.stderr, clash.stderr
    kubectl.run(
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=someone-else",
        "-f",
        "-",
        stdin=manifest.replace("Apply me", "Mine now"),
    )
    assert kubectl.json("get", "book", "applied", "-n", "default")["spec"]["title"] == "Mine now"


def test_patches_of_every_type(kubectl: Kubectl) -> None:
    kubectl.run("create", "-f", "-", stdin=book("patched", "Patch me"))
    kubectl.run("patch", "book", "patched", "-n", "default", "--type=merge", "-p", '{"spec":{"title":"Merged"}}')
    kubectl.run(
        "patch",
        "book",
        "patched",
        "-n",
        "default",
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/spec/chapters/0/title","value":"From source"}]',
    )
    kubectl.run(
        "patch",
        "book",
        "patched",
        "-n",
        "default",
        "--type=strategic",
        "-p",
        '{"spec":{"chapters":[{"number":3,"title":"CRDs"},{"number":2,"$patch":"delete"}]}}',
    )
    got = kubectl.json("get", "book", "patched", "-n", "default")
    assert got["spec"]["title"] == "Merged"
    assert [(c["number"], c["title"]) for c in got["spec"]["chapters"]] == [(1, "From source"), (3, "CRDs")]
    assert got["metadata"]["generation"] == 4, "each spec change counts"


def test_status_subresource_is_separate(kubectl: Kubectl) -> None:
    kubectl.run("create", "-f", "-", stdin=book("status", "Status"))
    kubectl.run(
        "patch",
        "book",
        "status",
        "-n",
        "default",
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"phase":"Published","readers":3}}',
    )
    kubectl.run("patch", "book", "status", "-n", "default", "--type=merge", "-p", '{"status":{"phase":"Retired"}}')
    got = kubectl.json("get", "book", "status", "-n", "default")
    assert got["status"] == {"phase": "Published", "readers": 3}, "the main resource ignores status"
    assert got["metadata"]["generation"] == 1, "status changes do not count as generations"


def test_selectors(kubectl: Kubectl) -> None:
    for i, shelf in enumerate(["xs", "xs", "ys"]):
        kubectl.run("create", "-f", "-", stdin=book(f"sel-{i}", f"Selected {i}", namespace="selectors", shelf=shelf))
    names = kubectl.run("get", "books", "-n", "selectors", "-l", "shelf=xs", "-o", "name").stdout.split()
    assert names == ["book.books.kubelab.dev/sel-0", "book.books.kubelab.dev/sel-1"]
    by_field = kubectl.run("get", "books", "-n", "selectors", "--field-selector=spec.title=Selected 2", "-o", "name")
    assert by_field.stdout.split() == ["book.books.kubelab.dev/sel-2"]
    bad = kubectl.run("get", "books", "-n", "selectors", "--field-selector=spec.chapters=1", check=False)
    assert bad.returncode != 0 and "field label not supported" in bad.stderr, bad.stderr


def test_bad_input_gets_a_status(kubectl: Kubectl) -> None:
    invalid = kubectl.run("create", "-f", "-", stdin=book("bad", "x").replace("number: 2", "number: 0"), check=False)
    assert invalid.returncode != 0 and "spec.chapters[1].number" in invalid.stderr, invalid.stderr
    missing = kubectl.run("get", "book", "nothing-here", "-n", "default", check=False)
    assert 'books.books.kubelab.dev "nothing-here" not found' in missing.stderr, missing.stderr
    unknown = kubectl.run(
        "create",
        "--validate=strict",
        "-f",
        "-",
        stdin=book("unknown", "x").replace("spec:", "spec:\n  colour: red"),
        check=False,
    )
    assert unknown.returncode != 0 and 'unknown field "spec.colour"' in unknown.stderr, unknown.stderr
    twice = kubectl.run("create", "-f", "-", stdin=book("k8s-dev-guide", "again"), check=False)
    assert "already exists" in twice.stderr, twice.stderr


def test_delete_and_delete_collection(kubectl: Kubectl) -> None:
    for i in range(3):
        kubectl.run("create", "-f", "-", stdin=book(f"gone-{i}", "Gone", namespace="deleting", shelf="gone"))
    kubectl.run("delete", "book", "gone-0", "-n", "deleting")
    kubectl.run("delete", "books", "-n", "deleting", "-l", "shelf=gone")
    left = kubectl.json("get", "books", "-n", "deleting")
    assert left["items"] == []


def test_explain_reads_openapi_v3(kubectl: Kubectl) -> None:
    out = kubectl.run("explain", "books.spec.chapters").stdout
    assert "number" in out and "<integer>" in out, out
    assert json.loads(kubectl.run("get", "--raw", "/openapi/v3").stdout)["paths"]
