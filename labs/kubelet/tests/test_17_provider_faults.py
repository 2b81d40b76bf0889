"""Checkpoint 17 (credential providers: bad input): malformed requests are refused clearly, other
registries get no credentials, and a pod still pulls after them."""

from __future__ import annotations

import json
import subprocess

from kubelab_cluster.kind import credential_provider
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.nodes import node_run

from .registrylab import PREFIX, provider_nodes

PROVIDER = f"/etc/kubelab/credential-provider/bin/{credential_provider.NAME}"
ARGS = ["--credentials=/etc/kubelab/credential-provider/credentials.json"]
API = "credentialprovider.kubelet.k8s.io/v1"


def ask(node: str, stdin: str) -> tuple[int, str, str]:
    """Run the installed provider on the node as the kubelet does: (exit status, stdout, stderr)."""
    script = f'{PROVIDER} {" ".join(ARGS)} 2>/tmp/provider.err; echo "exit=$?"; cat /tmp/provider.err >&2'
    done = subprocess.run(["docker", "exec", "-i", node, "sh", "-c", script], input=stdin, capture_output=True,
                          text=True, check=False, timeout=60)  # fmt: skip
    out, _, code = done.stdout.rpartition("exit=")
    return int(code.strip()), out, done.stderr


def test_17_malformed_requests(kubectl: Kubectl, private_image: str, workers: list[str]) -> None:
    """Not JSON, another apiVersion, no image: exit 1 and one line on stderr saying why; an image of
    another registry: an answer with no credentials.

    Hint (Chapter 9, credential providers): validate before answering; the kubelet logs a failing
    provider's stderr and pulls without credentials.
    """
    (node,) = provider_nodes(workers)
    for stdin, why in [
        ("{not json", "the request on stdin is not JSON"),
        (json.dumps({"apiVersion": "v0", "kind": "CredentialProviderRequest", "image": "x"}), "apiVersion 'v0'"),
        (json.dumps({"apiVersion": API, "kind": "CredentialProviderRequest"}), "the request names no image"),
    ]:
        code, out, err = ask(node, stdin)
        assert code == 1 and out == "" and err.startswith(f"{credential_provider.NAME}: {why}"), (code, out, err)
    code, out, err = ask(node, json.dumps({"apiVersion": API, "kind": "CredentialProviderRequest",
                                           "image": "registry.k8s.io/pause:3.10.2"}))  # fmt: skip
    assert code == 0, err
    answer = json.loads(out)
    assert answer["kind"] == "CredentialProviderResponse" and answer["auth"] == {}, answer
    code, out, err = ask(
        node, json.dumps({"apiVersion": API, "kind": "CredentialProviderRequest", "image": private_image})
    )
    assert code == 0 and list(json.loads(out)["auth"]) == [PREFIX], (code, out, err)
    node_run(node, "rm", "-f", "/tmp/provider.err")
