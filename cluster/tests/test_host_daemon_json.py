from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubelab_cluster.host import daemon_json
from kubelab_cluster.host.daemon_json import DaemonJsonError, is_registered, merge_runtime, register

NAME = "kubelab-capfix"
WRAPPER = Path("/usr/local/libexec/kubelab/runc-capfix")


def test_merge_into_nothing() -> None:
    merged = merge_runtime({}, NAME, WRAPPER)
    assert merged == {"runtimes": {NAME: {"path": str(WRAPPER)}}, "default-runtime": NAME}
    assert is_registered(merged, NAME, WRAPPER)


def test_merge_preserves_other_settings_and_runtimes() -> None:
    existing = {
        "log-driver": "json-file",
        "log-opts": {"max-size": "10m"},
        "insecure-registries": ["localhost:5000"],
        "runtimes": {"crun": {"path": "/usr/bin/crun"}, NAME: {"path": "/old", "runtimeArgs": ["--debug"]}},
        "default-runtime": "runc",
    }
    snapshot = json.loads(json.dumps(existing))
    merged = merge_runtime(existing, NAME, WRAPPER)
    assert existing == snapshot, "the input must not be modified"
    assert merged["log-opts"] == {"max-size": "10m"}
    assert merged["insecure-registries"] == ["localhost:5000"]
    assert merged["runtimes"]["crun"] == {"path": "/usr/bin/crun"}
    assert merged["runtimes"][NAME] == {"path": str(WRAPPER), "runtimeArgs": ["--debug"]}
    assert merged["default-runtime"] == NAME


def test_merge_is_idempotent() -> None:
    once = merge_runtime({"debug": True}, NAME, WRAPPER)
    assert merge_runtime(once, NAME, WRAPPER) == once


def test_someone_elses_default_runtime_is_not_replaced() -> None:
    with pytest.raises(DaemonJsonError, match="nvidia"):
        merge_runtime({"default-runtime": "nvidia"}, NAME, WRAPPER)


def test_register_file_changes_once_and_keeps_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "docker" / "daemon.json"
    path.parent.mkdir()
    path.write_text('{"bip": "10.200.0.1/24"}\n')
    assert register(NAME, WRAPPER, path) is True
    data = json.loads(path.read_text())
    assert data["bip"] == "10.200.0.1/24" and data["default-runtime"] == NAME
    assert (tmp_path / "docker" / "daemon.json.before-kubelab").read_text() == '{"bip": "10.200.0.1/24"}\n'
    text = path.read_text()
    assert register(NAME, WRAPPER, path) is False
    assert path.read_text() == text


def test_register_creates_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "etc-docker" / "daemon.json"
    assert register(NAME, WRAPPER, path) is True
    assert is_registered(daemon_json.load(path), NAME, WRAPPER)
    assert not (path.parent / "daemon.json.before-kubelab").exists()


@pytest.mark.parametrize("text", ["{not json", "[1, 2]"])
def test_broken_file_is_an_error_not_overwritten(tmp_path: Path, text: str) -> None:
    path = tmp_path / "daemon.json"
    path.write_text(text)
    with pytest.raises(DaemonJsonError):
        register(NAME, WRAPPER, path)
    assert path.read_text() == text


def test_empty_file_reads_as_no_settings(tmp_path: Path) -> None:
    path = tmp_path / "daemon.json"
    path.write_text("  \n")
    assert daemon_json.load(path) == {}
