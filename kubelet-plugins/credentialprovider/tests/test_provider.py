"""The exec protocol end to end (stdin to stdout and exit status), the registry of an image, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kubelab_credentialprovider.credentials import CredentialsError, for_image, load, registry_of
from kubelab_credentialprovider.protocol import API_VERSION, RequestError, parse_request

HOST = "kubelab-auth-registry:5000"


def request(image: str = f"{HOST}/kubelab/private:1") -> str:
    return json.dumps({"apiVersion": API_VERSION, "kind": "CredentialProviderRequest", "image": image})


@pytest.fixture
def credentials(tmp_path: Path) -> Path:
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({"registries": {HOST: {"username": "lab", "password": "s3cret"}}}))
    return path


def run(stdin: str, credentials: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "kubelab_credentialprovider", f"--credentials={credentials}"]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False, timeout=30)


def test_the_registrys_credentials_for_its_image(credentials: Path) -> None:
    done = run(request(), credentials)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "apiVersion": API_VERSION,
        "kind": "CredentialProviderResponse",
        "cacheKeyType": "Registry",
        "cacheDuration": "10s",
        "auth": {HOST: {"username": "lab", "password": "s3cret"}},
    }


def test_no_credentials_for_another_registry(credentials: Path) -> None:
    done = run(request("registry.k8s.io/pause:3.10"), credentials)
    assert done.returncode == 0 and json.loads(done.stdout)["auth"] == {}


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("not json", "the request on stdin is not JSON"),
        ("[]", "the request is a JSON list, not an object"),
        (json.dumps({"apiVersion": "credentialprovider.kubelet.k8s.io/v1alpha1", "kind": "CredentialProviderRequest",
                     "image": "x"}), "apiVersion 'credentialprovider.kubelet.k8s.io/v1alpha1' is not supported"),
        (json.dumps({"apiVersion": API_VERSION, "kind": "Pod", "image": "x"}),
         "kind 'Pod' is not CredentialProviderRequest"),
        (json.dumps({"apiVersion": API_VERSION, "kind": "CredentialProviderRequest"}), "the request names no image"),
    ],
)  # fmt: skip
def test_malformed_requests_exit_1_with_the_reason(stdin: str, message: str, credentials: Path) -> None:
    done = run(stdin, credentials)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"kubelab-credential-provider: {message}") and done.stderr.count("\n") == 1
    with pytest.raises(RequestError):
        parse_request(stdin)


def test_a_missing_or_bad_credentials_file(tmp_path: Path) -> None:
    done = run(request(), tmp_path / "absent.json")
    assert done.returncode == 1 and "no credentials file at" in done.stderr
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"registries": {HOST: {"username": "lab"}}}))
    with pytest.raises(CredentialsError, match="needs a username and a password"):
        load(bad)


@pytest.mark.parametrize(
    ("image", "registry"),
    [
        (f"{HOST}/kubelab/private:1", HOST),
        ("localhost/x", "localhost"),
        ("registry.k8s.io/pause:3.10", "registry.k8s.io"),
        ("busybox", "docker.io"),
        ("library/busybox:1", "docker.io"),
    ],
)
def test_the_registry_of_an_image(image: str, registry: str) -> None:
    assert registry_of(image) == registry


def test_for_image_gives_only_that_registry() -> None:
    known = {HOST: ("lab", "a"), "other.example:5000": ("x", "b")}
    assert for_image(f"{HOST}/kubelab/private:1", known) == {HOST: ("lab", "a")}
    assert for_image("busybox", known) == {}
