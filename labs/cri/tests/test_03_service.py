"""Checkpoint 3 (book 4.2, 4.3): a Deployment on the kubelab-cri node serves through a Service,
reached from a pod on another node; readiness is an exec probe (ExecSync)."""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube
from kubelab_labkit.nodes import workers
from kubelab_labkit.waiting import eventually

from .crilab import web_objects


def test_03_deployment_serves_through_a_service(kubectl: Kubectl, cri_node: str, namespace: str, busybox: str) -> None:
    """Two replicas of a busybox httpd, pinned to the node, Ready by an exec probe; a client on
    another worker gets answers from both through the Service `web`.

    Hint (4.2, 4.3): pods stuck in ContainerCreating: `kubectl -n kubelab-cri-lab describe pod -l app=web`
    (RunPodSandbox's CNI error, or CreateContainer's runc error); never Ready: the probe runs
    through ExecSync (`crictl exec -s CONTAINER wget -qO- 127.0.0.1:8080` on the node).
    """
    other = next(w for w in workers(kubectl) if w != cri_node)
    kube.apply(kubectl, *web_objects(namespace, busybox, cri_node, other))
    kube.rollout(kubectl, "deployment/web", namespace=namespace, timeout=180)
    pods = kubectl.json("-n", namespace, "get", "pods", "-l", "app=web")["items"]
    assert {p["spec"]["nodeName"] for p in pods} == {cri_node}
    names = {p["metadata"]["name"] for p in pods}
    kubectl.run("-n", namespace, "wait", "--for=condition=Ready", "pod/client", "--timeout=120s", timeout=130)
    seen: set[str] = set()

    def both_answer() -> bool:
        out = kubectl.run(
            "-n", namespace, "exec", "client", "--", "timeout", "5", "wget", "-qO-", "http://web/", check=False
        )
        seen.update(line.strip() for line in out.splitlines() if line.strip())
        assert seen >= names, f"answers so far: {sorted(seen)}, pods {sorted(names)}"
        return True

    eventually(both_answer, timeout=60, interval=0.2, what="both replicas answering through the Service")
