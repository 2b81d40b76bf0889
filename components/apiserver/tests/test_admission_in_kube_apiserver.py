"""The 7.3 rules enforced three ways by a real kube-apiserver (envtest): the KubelabOwner plugin
compiled into the patched build (the toolchain's kube-apiserver-kubelab, enabled by flag), this
package's admission webhooks, and the admission policies; the same results from each, and what
happens when the webhooks are down."""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kubelab_apiserver.admission import rules
from kubelab_apiserver.admission.registrations import policies, webhook_configurations
from kubelab_apiserver.authz.policy import default_rules
from kubelab_apiserver.serving import TLSServer
from kubelab_apiserver.webhooks import create_app
from kubelab_client.certs import pki
from kubelab_client.errors import ApiError
from kubelab_client.kube import Api
from kubelab_client.testing.envtest import ControlPlane
from kubelab_client.testing.etcd import free_port
from kubelab_cluster.pins import pins
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build

NS = "default"
CONFIGMAPS = f"/api/v1/namespaces/{NS}/configmaps"


@dataclass
class Setup:
    cp: ControlPlane
    admin: Api
    webhooks: TLSServer
    binary: Path


def _serving(root: Path) -> bytes:
    start = pki.utcnow() - dt.timedelta(minutes=1)
    end = start + dt.timedelta(days=1)
    ca_key, key = pki.new_key(), pki.new_key()
    ca = pki.sign(ca_key, pki.subject("kubelab-webhooks-ca"), is_ca=True, not_before=start, not_after=end)
    cert = pki.sign(
        key, pki.subject("kubelab-webhooks"), issuer=(ca, ca_key), client=False, server_ips=["127.0.0.1"],
        not_before=start, not_after=end,
    )  # fmt: skip
    (root / "tls.crt").write_bytes(pki.cert_pem(cert))
    (root / "tls.key").write_bytes(pki.key_pem(key))
    return pki.cert_pem(ca)


def _eventually(check: Any, what: str, timeout: float = 30) -> None:
    """Registrations reach kube-apiserver's admission through informers: a moment after they are created."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            check()
            return
        except (AssertionError, ApiError) as exc:
            last = exc
            time.sleep(0.3)
    raise AssertionError(f"{what}: {last}")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("admission")
    ca_pem = _serving(root)
    port = free_port()
    server = TLSServer(
        create_app(None, {}, default_rules()), root / "tls.crt", root / "tls.key", b"", host="127.0.0.1", port=port
    )
    server.start()
    p = pins()
    etcd = Path(build(BY_NAME["etcd"], p).binaries["etcd"])
    binary = Path(build(BY_NAME["kube-apiserver-kubelab"], p).binaries["kube-apiserver"])
    flags = ["--enable-admission-plugins=KubelabOwner"]
    try:
        with ControlPlane(etcd=etcd, apiserver=binary, workdir=root / "envtest", extra_apiserver_flags=flags) as cp:
            admin = cp.api()
            for doc in [*webhook_configurations(f"https://127.0.0.1:{port}", ca_pem), *policies()]:
                plural = doc["kind"].lower().removesuffix("y") + ("ies" if doc["kind"].endswith("y") else "s")
                admin.request("POST", f"/apis/{doc['apiVersion']}/{plural}", body=doc)
            setup = Setup(cp, admin, server, binary)
            for way in rules.WAYS:  # every way in force before the tests start
                _eventually(lambda way=way: _owner_defaulted(setup, way), f"the {way} way in force")
            yield setup
    finally:
        server.stop()


def configmap(
    name: str, way: str, data: dict[str, str] | None = None, annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {rules.BY_LABEL: way}}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {"a": "1"}}


def create(setup: Setup, obj: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = setup.admin.request("POST", CONFIGMAPS, body=obj)
    return out


def _owner_defaulted(setup: Setup, way: str) -> None:
    """The way mutates, and validates: a policy's CEL is compiled a moment after its creation."""
    name = f"probe-{way}-{time.monotonic_ns()}"
    made = create(setup, configmap(name, way))
    setup.admin.request("DELETE", f"{CONFIGMAPS}/{name}")
    assert (made["metadata"].get("annotations") or {}).get(rules.OWNER_ANNOTATION), f"{way}: {made['metadata']}"
    try:
        create(setup, configmap(name, way, {"password": "x"}))
    except ApiError as exc:
        assert exc.status == 403, exc
        return
    setup.admin.request("DELETE", f"{CONFIGMAPS}/{name}")
    raise AssertionError(f"{way}: a password key is not refused yet")


def test_the_patched_build_is_stamped() -> None:
    binary = Path(build(BY_NAME["kube-apiserver-kubelab"], pins()).binaries["kube-apiserver"])
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"Kubernetes {pins().kubernetes.version}-kubelab"


def test_the_plugin_is_registered(setup: Setup) -> None:
    """kube-apiserver lists it among the plugins --enable-admission-plugins takes (the list is sorted there)."""
    out = subprocess.run([str(setup.binary), "--help"], capture_output=True, text=True, check=False).stdout
    enable = next(line for line in out.splitlines() if line.strip().startswith("--enable-admission-plugins"))
    assert "KubelabOwner," in enable.split("Comma-delimited list of admission plugins:")[1]


@pytest.mark.parametrize("way", rules.WAYS)
def test_each_way_defaults_the_owner_and_keeps_a_given_one(setup: Setup, way: str) -> None:
    made = create(setup, configmap(f"owner-{way}", way))
    who = setup.admin.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                              body={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})  # fmt: skip
    assert made["metadata"]["annotations"][rules.OWNER_ANNOTATION] == who["status"]["userInfo"]["username"]

    kept = create(setup, configmap(f"given-{way}", way, annotations={rules.OWNER_ANNOTATION: "carol"}))
    assert kept["metadata"]["annotations"] == {rules.OWNER_ANNOTATION: "carol"}


@pytest.mark.parametrize("way", rules.WAYS)
def test_each_way_refuses_a_password_key_with_the_same_reason(setup: Setup, way: str) -> None:
    with pytest.raises(ApiError) as refused:
        create(setup, configmap(f"secret-{way}", way, {"user": "u", "DB_Password": "p", "z-password": "q"}))
    assert refused.value.status == 403, refused.value
    assert 'key "DB_Password" looks like a password: put it in a Secret' in str(refused.value), refused.value
    with pytest.raises(ApiError):
        setup.admin.request("GET", f"{CONFIGMAPS}/secret-{way}")  # nothing stored

    create(setup, configmap(f"update-{way}", way))
    current = setup.admin.request("GET", f"{CONFIGMAPS}/update-{way}")
    current["binaryData"] = {"password.bin": "AA=="}
    with pytest.raises(ApiError) as on_update:
        setup.admin.request("PUT", f"{CONFIGMAPS}/update-{way}", body=current)
    assert on_update.value.status == 403 and "password.bin" in str(on_update.value)


def test_configmaps_of_no_way_are_left_alone(setup: Setup) -> None:
    plain = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "plain"}, "data": {"password": "x"}}
    made = create(setup, plain)
    assert rules.OWNER_ANNOTATION not in (made["metadata"].get("annotations") or {})


def test_webhooks_down_fail_their_configmaps_only(setup: Setup) -> None:
    setup.webhooks.stop()
    try:
        with pytest.raises(ApiError) as down:
            create(setup, configmap("while-down-webhook", "webhook"))
        assert down.value.status == 500 and "failed calling webhook" in str(down.value), down.value
        for way in ("plugin", "policy"):
            made = create(setup, configmap(f"while-down-{way}", way))
            assert rules.OWNER_ANNOTATION in made["metadata"]["annotations"]
    finally:
        setup.webhooks.start()
    _eventually(lambda: _owner_defaulted(setup, "webhook"), "the webhooks back")
