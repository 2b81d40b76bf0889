"""The aggregated server behind a real kube-apiserver (envtest: etcd and kube-apiserver from the
toolchain), run by its console entry point with delegated authentication and authorization:
the APIService becomes Available, kubectl reaches the group through the aggregator, RBAC (by
SubjectAccessReview) decides, bearer tokens are checked by TokenReview, admission refuses
objects in namespaces that do not exist."""

from __future__ import annotations

import base64
import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubelab_client.certs import pki
from kubelab_client.errors import ApiError
from kubelab_client.kube import Api
from kubelab_client.testing.envtest import ControlPlane
from kubelab_client.testing.etcd import free_port
from kubelab_cluster.pins import pins
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build

from .conftest import Kubectl

NS, SERVICE = "kubelab-apiserver", "kubelab-aggregated"
APISERVICE = "v1alpha1.books.kubelab.dev"
BOOKS = "/apis/books.kubelab.dev/v1alpha1/namespaces/{ns}/books"


def host_ip() -> str:
    """An address of this machine that is not loopback (EndpointSlices refuse loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("10.254.254.254", 9))
        address: str = s.getsockname()[0]
        return address


def write_front_proxy(root: Path) -> tuple[Path, Path, Path]:
    start = pki.utcnow() - dt.timedelta(minutes=1)
    end = start + dt.timedelta(days=1)
    ca_key, key = pki.new_key(), pki.new_key()
    ca = pki.sign(ca_key, pki.subject("front-proxy-ca"), is_ca=True, not_before=start, not_after=end)
    cert = pki.sign(key, pki.subject("front-proxy-client"), issuer=(ca, ca_key), not_before=start, not_after=end)
    paths = root / "front-proxy-ca.crt", root / "front-proxy-client.crt", root / "front-proxy-client.key"
    paths[0].write_bytes(pki.cert_pem(ca))
    paths[1].write_bytes(pki.cert_pem(cert))
    paths[2].write_bytes(pki.key_pem(key))
    return paths


def write_serving(root: Path) -> tuple[bytes, Path, Path]:
    start = pki.utcnow() - dt.timedelta(minutes=1)
    end = start + dt.timedelta(days=1)
    ca_key, key = pki.new_key(), pki.new_key()
    ca = pki.sign(ca_key, pki.subject("kubelab-aggregated-ca"), is_ca=True, not_before=start, not_after=end)
    cert = pki.sign(
        key,
        pki.subject(f"{SERVICE}.{NS}.svc"),
        issuer=(ca, ca_key),
        client=False,
        dns_names=[f"{SERVICE}.{NS}.svc"],
        not_before=start,
        not_after=end,
    )
    (root / "tls.crt").write_bytes(pki.cert_pem(cert))
    (root / "tls.key").write_bytes(pki.key_pem(key))
    return pki.cert_pem(ca), root / "tls.crt", root / "tls.key"


def wait_for(what: str, check: Any, timeout: float = 60.0) -> Any:
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            if found := check():
                return found
        except ApiError as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout:g} s (last: {last})")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ControlPlane, Api]]:
    root = tmp_path_factory.mktemp("behind-kube-apiserver")
    proxy_ca, proxy_cert, proxy_key = write_front_proxy(root)
    flags = [
        f"--requestheader-client-ca-file={proxy_ca}",
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        f"--proxy-client-cert-file={proxy_cert}",
        f"--proxy-client-key-file={proxy_key}",
        "--enable-aggregator-routing=true",
    ]
    p = pins()
    etcd = Path(build(BY_NAME["etcd"], p).binaries["etcd"])
    apiserver = Path(build(BY_NAME["kube-apiserver"], p).binaries["kube-apiserver"])
    with ControlPlane(etcd=etcd, apiserver=apiserver, workdir=root / "envtest", extra_apiserver_flags=flags) as cp:
        yield cp, cp.api()


@pytest.fixture(scope="module")
def registered(cluster: tuple[ControlPlane, Api], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    cp, api = cluster
    root = tmp_path_factory.mktemp("aggregated-server")
    ca, cert, key = write_serving(root)
    port = free_port()
    binary = Path(sys.executable).parent / "kubelab-apiserver"
    log = (root / "server.log").open("wb")
    server = subprocess.Popen(
        [
            str(binary),
            "aggregated",
            f"--storage=sqlite://{root / 'store.db'}",
            f"--secure-port={port}",
            f"--tls-cert-file={cert}",
            f"--tls-private-key-file={key}",
            f"--kubeconfig={cp.kubeconfig}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "KUBECONFIG": ""},
    )
    try:
        api.request("POST", "/api/v1/namespaces", body={"metadata": {"name": NS}})
        api.request(
            "POST",
            f"/api/v1/namespaces/{NS}/services",
            body={
                "metadata": {"name": SERVICE},
                "spec": {"ports": [{"name": "https", "port": 443, "targetPort": port}]},
            },
        )
        api.request(
            "POST",
            f"/apis/discovery.k8s.io/v1/namespaces/{NS}/endpointslices",
            body={
                "metadata": {"name": SERVICE, "labels": {"kubernetes.io/service-name": SERVICE}},
                "addressType": "IPv4",
                "endpoints": [{"addresses": [host_ip()], "conditions": {"ready": True}}],
                "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
            },
        )
        api.request(
            "POST",
            "/apis/apiregistration.k8s.io/v1/apiservices",
            body={
                "metadata": {"name": APISERVICE},
                "spec": {
                    "group": "books.kubelab.dev",
                    "version": "v1alpha1",
                    "groupPriorityMinimum": 2000,
                    "versionPriority": 200,
                    "caBundle": base64.b64encode(ca).decode(),
                    "service": {"namespace": NS, "name": SERVICE, "port": 443},
                },
            },
        )

        def available() -> dict[str, Any] | None:
            assert server.poll() is None, (root / "server.log").read_text()
            got = api.request("GET", f"/apis/apiregistration.k8s.io/v1/apiservices/{APISERVICE}")
            for c in got.get("status", {}).get("conditions", []):
                if c["type"] == "Available" and c["status"] == "True":
                    return c
            return None

        condition = wait_for("the APIService Available", available, timeout=90)
        assert condition["message"] == "all checks passed", condition
        yield api
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()


def reader_token(api: Api, namespace: str) -> str:
    """A service account that may read Books (and nothing else), and a token for it."""
    api.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts", body={"metadata": {"name": "reader"}})
    api.request(
        "POST",
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles",
        body={
            "metadata": {"name": "book-reader"},
            "rules": [{"apiGroups": ["books.kubelab.dev"], "resources": ["books"], "verbs": ["get", "list", "watch"]}],
        },
    )
    api.request(
        "POST",
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings",
        body={
            "metadata": {"name": "book-reader"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "book-reader"},
            "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": namespace}],
        },
    )
    answer = api.request(
        "POST",
        f"/api/v1/namespaces/{namespace}/serviceaccounts/reader/token",
        body={"spec": {"expirationSeconds": 3600}},
    )
    token: str = answer["status"]["token"]
    return token


def test_kubectl_reaches_the_group_through_the_aggregator(
    cluster: tuple[ControlPlane, Api], registered: Api, kubectl_binary: Path
) -> None:
    cp, api = cluster
    kubectl = Kubectl(kubectl_binary, cp.kubeconfig)
    api.request("POST", "/api/v1/namespaces", body={"metadata": {"name": "library"}})
    kubectl.run(
        "create",
        "-f",
        "-",
        stdin="""
apiVersion: books.kubelab.dev/v1alpha1
kind: Book
metadata: {name: guide, namespace: library}
spec: {title: Kubernetes开发指南}
""",
    )
    out = kubectl.run("get", "books", "-n", "library").stdout
    assert "guide" in out and "Kubernetes开发指南" in out and "kubelab-envtest-admin" in out, out
    resources = kubectl.run("api-resources", "--api-group=books.kubelab.dev", "-o", "name").stdout.split()
    assert sorted(resources) == ["books.books.kubelab.dev", "libraries.books.kubelab.dev"]
    # kube-apiserver's OpenAPI v3 aggregation downloads the aggregated server's document on its own time
    wait_for(
        "the group in kube-apiserver's OpenAPI v3",
        lambda: "apis/books.kubelab.dev/v1alpha1" in api.request("GET", "/openapi/v3")["paths"],
        timeout=90,
    )
    # and kubectl finds it there (the group's own document can follow the list of groups by a moment)
    wait_for(
        "kubectl explain books.spec.chapters",
        lambda: "number" in kubectl.run("explain", "books.spec.chapters", check=False).stdout,
        timeout=60,
    )


def test_rbac_decides_through_subject_access_reviews(cluster: tuple[ControlPlane, Api], registered: Api) -> None:
    cp, api = cluster
    api.request("POST", "/api/v1/namespaces", body={"metadata": {"name": "rbac"}})
    token = reader_token(api, "rbac")
    reader = Api.for_host(cp.url, token=token, ca_file=str(cp.workdir / "pki" / "ca.crt"))
    assert reader.request("GET", BOOKS.format(ns="rbac"))["items"] == []
    with pytest.raises(ApiError) as denied:
        reader.request(
            "POST",
            BOOKS.format(ns="rbac"),
            body={
                "apiVersion": "books.kubelab.dev/v1alpha1",
                "kind": "Book",
                "metadata": {"name": "x"},
                "spec": {"title": "x"},
            },
        )
    assert denied.value.status == 403, denied.value
    assert 'User "system:serviceaccount:rbac:reader" cannot create resource "books"' in denied.value.message


def test_namespaces_that_do_not_exist_are_refused(registered: Api) -> None:
    def refused() -> ApiError | None:
        try:
            registered.request(
                "POST",
                BOOKS.format(ns="nowhere"),
                body={
                    "apiVersion": "books.kubelab.dev/v1alpha1",
                    "kind": "Book",
                    "metadata": {"name": "x"},
                    "spec": {"title": "x"},
                },
            )
        except ApiError as exc:
            return exc
        return None

    error = refused()
    assert error is not None and error.status == 404 and 'namespaces "nowhere" not found' in error.message, error
