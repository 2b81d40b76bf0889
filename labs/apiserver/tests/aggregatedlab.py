"""What only the API server lab's checkpoints need: a serving certificate for the aggregated
server, deploying it (components/apiserver/deploy/aggregated.yaml) and taking it down, and talking to
it through kube-apiserver or, for the checkpoints about trust, directly."""

from __future__ import annotations

import base64
import datetime as dt
import json
import ssl
import subprocess
import urllib.error
import urllib.request
from typing import Any

from kubelab_client.certs import pki
from kubelab_cluster.images.sources import kubeadm_images
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.pins import pins
from kubelab_labkit import kube, manifests
from kubelab_labkit.waiting import eventually

NS = "kubelab-apiserver"
SERVICE = "kubelab-aggregated"
APISERVICE = "v1alpha1.books.kubelab.dev"
GROUP, VERSION = "books.kubelab.dev", "v1alpha1"
GV = f"/apis/{GROUP}/{VERSION}"


def serving_certificate() -> tuple[bytes, bytes, bytes]:
    """(CA, certificate, key): a certificate for the Service's name, which the aggregator checks."""
    start = pki.utcnow() - dt.timedelta(minutes=1)
    end = start + dt.timedelta(days=30)
    ca_key, key = pki.new_key(), pki.new_key()
    ca = pki.sign(ca_key, pki.subject("kubelab-aggregated-ca"), is_ca=True, not_before=start, not_after=end)
    name = f"{SERVICE}.{NS}.svc"
    cert = pki.sign(
        key,
        pki.subject(name),
        issuer=(ca, ca_key),
        client=False,
        not_before=start,
        not_after=end,
        dns_names=[name, f"{name}.cluster.local"],
    )
    return pki.cert_pem(ca), pki.cert_pem(cert), pki.key_pem(key)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def deploy(kubectl: Kubectl, image: str) -> bytes:
    """Deploy and register the server; returns the CA of its serving certificate."""
    ca, cert, key = serving_certificate()
    manifests.apply_component(
        kubectl,
        "apiserver",
        "aggregated.yaml",
        IMAGE=image,
        ETCD_IMAGE=kubeadm_images(pins())["etcd"],
        TLS_CRT=b64(cert),
        TLS_KEY=b64(key),
        CA_BUNDLE=b64(ca),
    )
    kube.rollout(kubectl, f"deployment/{SERVICE}", namespace=NS, timeout=180)
    wait_available(kubectl)
    return ca


def uninstall(kubectl: Kubectl) -> None:
    """The APIService first (so discovery never lists a group nobody serves), then the rest."""
    kubectl.run("delete", "apiservice", APISERVICE, "--ignore-not-found", "--wait=true", check=False)
    kubectl.run(
        "delete",
        "--ignore-not-found",
        "--wait=true",
        "-f",
        "-",
        timeout=180,
        check=False,
        stdin=manifests.render(
            "apiserver", "aggregated.yaml", IMAGE="x", ETCD_IMAGE="x", TLS_CRT="", TLS_KEY="", CA_BUNDLE=""
        ),
    )


def available(kubectl: Kubectl) -> dict[str, Any]:
    got = kubectl.json("get", "apiservice", APISERVICE)
    for condition in got.get("status", {}).get("conditions", []):
        if condition["type"] == "Available":
            return dict(condition)
    return {}


def wait_available(kubectl: Kubectl, timeout: float = 120) -> dict[str, Any]:
    def check() -> dict[str, Any]:
        condition = available(kubectl)
        assert condition.get("status") == "True", f"APIService {APISERVICE}: {condition or 'no condition yet'}"
        return condition

    return eventually(check, timeout=timeout, what=f"APIService {APISERVICE} Available")  # type: ignore[no-any-return]


def raw(kubectl: Kubectl, path: str) -> Any:
    return json.loads(kubectl.run("get", "--raw", path))


def book(name: str, namespace: str, title: str = "", **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Book",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"title": title or name},
    }
    for key, value in extra.items():
        obj["metadata" if key in ("labels", "ownerReferences", "finalizers") else "spec"][key] = value
    return obj


def server_pod(kubectl: Kubectl) -> str:
    pods = kubectl.json("-n", NS, "get", "pods", "-l", f"app={SERVICE}")["items"]
    running = [p["metadata"]["name"] for p in pods if not p["metadata"].get("deletionTimestamp")]
    assert len(running) == 1, f"one pod of {SERVICE} expected, found {running}"
    return running[0]


def etcdctl(kubectl: Kubectl, *args: str) -> str:
    return kubectl.run(
        "-n",
        NS,
        "exec",
        server_pod(kubectl),
        "-c",
        "etcd",
        "--",
        "/usr/local/bin/etcdctl",
        "--endpoints=http://127.0.0.1:2379",
        *args,
    )


def direct(
    port: int,
    ca: bytes,
    path: str,
    *,
    method: str = "GET",
    body: Any = None,
    headers: dict[str, str] | None = None,
    cert: tuple[str, str] | None = None,
) -> tuple[int, Any]:
    """A request straight to the aggregated server (a port-forward), not through kube-apiserver."""
    context = ssl.create_default_context(cadata=ca.decode())
    context.check_hostname = False  # the certificate names the Service; we reach it on 127.0.0.1
    if cert is not None:
        context.load_cert_chain(*cert)
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"https://127.0.0.1:{port}{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def watch_lines(kubectl: Kubectl, path: str, count: int, timeout: float = 60) -> list[dict[str, Any]]:
    """The first ``count`` events of a watch through kube-apiserver (``kubectl get --raw``)."""
    argv = [str(kubectl.binary), "--kubeconfig", str(kubectl.kubeconfig), "get", "--raw", path]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    events: list[dict[str, Any]] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip():
                events.append(json.loads(line))
            if len(events) >= count:
                break
    finally:
        proc.terminate()
        proc.wait(10)
    assert len(events) >= count, f"{path}: {len(events)} events of {count}: {proc.stderr.read() if proc.stderr else ''}"
    return events


def clear(kubectl: Kubectl, namespace: str) -> None:
    """No Books left in ``namespace`` (each checkpoint starts from an empty one)."""
    kubectl.run("-n", namespace, "delete", "books", "--all", "--wait=true")
