"""cluster/kind.yaml's boot files: present, handed to the control plane, part of the cluster's identity."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubelab_cluster.kind import cluster


def test_every_boot_file_exists_and_kind_yaml_passes_it() -> None:
    text = cluster.kind_config().read_text()
    for source in cluster.boot_files():
        assert source.is_file(), source
        assert f"/etc/kubelab/{source.name}" in text, f"cluster/kind.yaml does not use {source.name}"


def test_the_kube_scheduler_configuration_keeps_kubeadms_kubeconfig_and_the_extender_opt_in() -> None:
    config = yaml.safe_load((cluster.kind_config().parent / "kube-scheduler.yaml").read_text())
    assert config["clientConnection"]["kubeconfig"] == "/etc/kubernetes/scheduler.conf"
    (extender,) = config["extenders"]
    # only pods asking for the marker resource depend on the extender
    assert [r["name"] for r in extender["managedResources"]] == ["kubelab.dev/extender"]


def test_a_changed_boot_file_changes_the_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cluster").mkdir()
    for source in [cluster.kind_config(), *cluster.boot_files()]:
        (tmp_path / "cluster" / source.name).write_bytes(source.read_bytes())
    monkeypatch.setattr(cluster, "repo_root", lambda: tmp_path)
    before = cluster.config_digest()
    (tmp_path / "cluster" / "kube-scheduler.yaml").write_text("changed\n")
    assert cluster.config_digest() != before


def test_the_webhook_pki_is_a_ca_and_a_kubeconfig_that_trusts_it(tmp_path: Path) -> None:
    import base64

    from cryptography import x509

    from kubelab_cluster.kind import webhook_pki

    assert webhook_pki.missing(tmp_path) == list(webhook_pki.FILES)
    webhook_pki.make(tmp_path)
    assert webhook_pki.missing(tmp_path) == []
    ca = x509.load_pem_x509_certificate((tmp_path / webhook_pki.CA_CERT).read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert (tmp_path / webhook_pki.CA_KEY).stat().st_mode & 0o077 == 0, "the key is the owner's only"
    config = yaml.safe_load((tmp_path / webhook_pki.TOKEN_WEBHOOK_KUBECONFIG).read_text())
    cluster_entry = config["clusters"][0]["cluster"]
    assert cluster_entry["server"] == f"https://{webhook_pki.WEBHOOK_IP}/authenticate"
    assert (
        base64.b64decode(cluster_entry["certificate-authority-data"]) == (tmp_path / webhook_pki.CA_CERT).read_bytes()
    )
    assert f"/etc/kubelab/{webhook_pki.TOKEN_WEBHOOK_KUBECONFIG}" in cluster.kind_config().read_text()
    import ipaddress

    services = yaml.safe_load(cluster.kind_config().read_text())["networking"]["serviceSubnet"]
    assert ipaddress.ip_address(webhook_pki.WEBHOOK_IP) in ipaddress.ip_network(services)
