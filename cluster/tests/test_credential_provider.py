"""The credential provider zipapp: from the reference, a graded package over it, run as the kubelet runs it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from kubelab_cluster.kind import credential_provider

REQUEST = json.dumps({
    "apiVersion": "credentialprovider.kubelet.k8s.io/v1", "kind": "CredentialProviderRequest",
    "image": "kubelab-auth-registry:5000/kubelab/private:1",
})  # fmt: skip


def exec_like_the_kubelet(app: Path, credentials: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(app), f"--credentials={credentials}"], input=REQUEST, capture_output=True,
                          text=True, check=False, timeout=30)  # fmt: skip


def test_the_zipapp_answers_and_keeps_the_exit_status(tmp_path: Path) -> None:
    app = credential_provider.build(tmp_path / "bin" / credential_provider.NAME)
    assert app.stat().st_mode & 0o111 and app.read_bytes().startswith(b"#!/usr/bin/python3\n")
    creds = tmp_path / "credentials.json"
    creds.write_text(json.dumps({"registries": {"kubelab-auth-registry:5000": {"username": "u", "password": "p"}}}))
    done = exec_like_the_kubelet(app, creds)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["auth"] == {"kubelab-auth-registry:5000": {"username": "u", "password": "p"}}
    assert exec_like_the_kubelet(app, tmp_path / "absent.json").returncode == 1


def test_a_graded_package_replaces_the_reference_modules(tmp_path: Path) -> None:
    graded = tmp_path / "student" / credential_provider.PACKAGE
    graded.mkdir(parents=True)
    (graded / "__init__.py").write_text("raise ImportError('not taken')\n")
    (graded / "credentials.py").write_text(
        (credential_provider.reference_package() / "credentials.py")
        .read_text()
        .replace("    host = registry_of(image)\n", "    raise NotImplementedError('TODO(9.4)')\n")
    )
    app = credential_provider.build(tmp_path / "bin" / credential_provider.NAME, graded)
    done = exec_like_the_kubelet(app, tmp_path / "absent.json")
    assert done.returncode != 0
    creds = tmp_path / "credentials.json"
    creds.write_text(json.dumps({"registries": {}}))
    done = exec_like_the_kubelet(app, creds)
    assert "NotImplementedError: TODO(9.4)" in done.stderr
