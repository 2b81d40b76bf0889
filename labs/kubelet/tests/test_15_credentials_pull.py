"""Checkpoint 15 (credential providers, exercise 9.4): a pod pulls from a registry that requires a
password with no imagePullSecrets: the kubelet asks kubelab-credential-provider."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, pods
from kubelab_labkit.nodes import node_sh

from .registrylab import IMAGE, private_pod, provider_nodes


def test_15_pull_with_the_providers_credentials(
    kubectl: Kubectl, namespace: str, private_image: str, workers: list[str]
) -> None:
    """The registry refuses an anonymous pull (`crictl pull` on the node: 401); the pod `private` on the
    worker with the provider, with no imagePullSecrets, is Running from that image.

    Hint (Chapter 9, exercise 9.4): kubelab_credentialprovider/credentials.py `for_image` gives the
    credentials of the registry the image names. Run the provider by hand on the node (docker exec
    kubelab-worker ...): pipe a CredentialProviderRequest into
    /etc/kubelab/credential-provider/bin/kubelab-credential-provider
    --credentials=/etc/kubelab/credential-provider/credentials.json; `journalctl -u kubelet | grep -i
    credential` shows what the kubelet got.
    """
    (node,) = provider_nodes(workers)
    anonymous = node_sh(node, f"crictl pull {IMAGE} 2>&1 || true")
    assert "no basic auth credentials" in anonymous or "401" in anonymous, anonymous
    kube.apply(kubectl, private_pod("private", namespace, private_image, node))
    obj = pods.wait_phase(kubectl, namespace, "private", {"Running"}, timeout=120)
    assert "imagePullSecrets" not in obj["spec"]
    assert obj["status"]["containerStatuses"][0]["image"] == IMAGE
