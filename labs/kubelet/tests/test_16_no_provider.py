"""Checkpoint 16 (credential providers): on a node whose kubelet has no provider the same pod cannot pull."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube
from kubelab_labkit.waiting import eventually

from .registrylab import private_pod, provider_nodes


def test_16_no_provider_no_pull(kubectl: Kubectl, namespace: str, private_image: str, workers: list[str]) -> None:
    """The pod `unauthorized` on the other worker stays in ErrImagePull / ImagePullBackOff, its events
    saying the registry refused (401 Unauthorized); nothing else gives it credentials.

    Hint (Chapter 9, credential providers): the kubelet flags --image-credential-provider-config and
    --image-credential-provider-bin-dir are per kubelet (cluster/kind.yaml gives them to one worker).
    """
    (other,) = [n for n in workers if n not in provider_nodes(workers)]
    kube.apply(kubectl, private_pod("unauthorized", namespace, private_image, other))

    def refused() -> str:
        status = kubectl.json("-n", namespace, "get", "pod", "unauthorized")["status"]
        waiting = (status.get("containerStatuses") or [{}])[0].get("state", {}).get("waiting", {})
        assert waiting.get("reason") in {"ErrImagePull", "ImagePullBackOff"}, status
        events = kube.events(kubectl, namespace, "unauthorized")
        assert "401 Unauthorized" in events or "unauthorized" in events.lower(), events
        return events

    eventually(refused, timeout=90, interval=2, what="the pull refused on the worker without a provider")
    kubectl.run("-n", namespace, "delete", "pod", "unauthorized", "--wait=true")
