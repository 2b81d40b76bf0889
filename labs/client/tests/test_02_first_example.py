"""2.2 The first example, out of the cluster (kubeconfig) and in it (ServiceAccount token + RBAC)."""

from __future__ import annotations

import time
from pathlib import Path

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, objects, pods

from .conftest import RunPy

LISTPODS = ("-m", "kubelab_client.examples.listpods")


def test_03_list_pods_from_the_host(kubeconfig: Path, run_py: RunPy) -> None:
    """`kubelab-client-listpods --kubeconfig K -n kube-system` lists the control plane's pods.

    Hint (2.2): run it yourself: `uv run kubelab-client-listpods --kubeconfig K -n kube-system`; the program
    is components/client/kubelab_client/examples/listpods.py (main), the config loading Api.from_config in
    kubelab_client/kube.py.
    """
    proc = run_py(*LISTPODS, "--kubeconfig", str(kubeconfig), "-n", "kube-system")
    assert proc.returncode == 0, proc.stderr
    assert "config: kubeconfig" in proc.stdout, proc.stdout
    assert "kube-system/kube-apiserver-" in proc.stdout and "kube-system/etcd-" in proc.stdout, proc.stdout


def test_04_list_pods_in_the_cluster(kubectl: Kubectl, namespace: str, component_image: str) -> None:
    """The same program in a pod uses its ServiceAccount: allowed in its namespace by a Role, 403 elsewhere.

    Hint (2.2): in a pod the client reads /var/run/secrets/kubernetes.io/serviceaccount (token, ca.crt,
    namespace) and $KUBERNETES_SERVICE_HOST (Api.from_config picks in-cluster, kubelab_client/kube.py);
    `kubectl -n kubelab-client logs listpods`, `kubectl -n kubelab-client describe rolebinding lister-reads-pods`.
    """
    kube.apply(
        kubectl,
        objects.service_account("lister", namespace),
        objects.role("pod-reader", namespace, [objects.rule([""], ["pods"], ["get", "list", "watch"])]),
        objects.role_binding(
            "lister-reads-pods", namespace, "pod-reader", [objects.subject("ServiceAccount", "lister", namespace)]
        ),
    )
    script = (
        f"python3 -m kubelab_client.examples.listpods -n {namespace}; echo exit=$?; "
        "python3 -m kubelab_client.examples.listpods -n kube-system; echo exit=$?"
    )
    listpods = pods.pod(
        "listpods",
        namespace,
        component_image,  # the lab image with the graded kubelab_client first on PYTHONPATH
        ["sh", "-c", script],
        service_account="lister",
        node_selector={"kubelab.dev/role": "worker"},
    )
    kube.apply(kubectl, listpods)
    phase, logs = pods.wait_done(kubectl, namespace, "listpods")
    print(logs)
    assert phase == "Succeeded", logs
    first, _, second = logs.partition("exit=0")
    assert "config: in-cluster (service account)" in first and f"{namespace}/listpods Running" in first, logs
    assert "403 Forbidden" in second and 'User "system:serviceaccount:kubelab-client:lister"' in second, logs
    assert "exit=1" in second, logs


def test_05_kubeconfig_pointing_nowhere_fails_fast(tmp_path: Path, run_py: RunPy) -> None:
    """A kubeconfig whose server is not there gives one clear line and exit 1, within seconds.

    Hint (2.2): the client must not retry silently: Api.from_config (kubelab_client/kube.py) turns config
    errors into ConfigError, connection failures into ConnectionLost naming the URL (Api._send); try
    `uv run kubelab-client-listpods --kubeconfig /tmp/nowhere.yaml --timeout 5`.
    """
    nowhere = tmp_path / "nowhere.kubeconfig"
    nowhere.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
    )
    for kubeconfig, expected in [
        (nowhere, "https://127.0.0.1:1/version: [Errno 111] Connection refused"),
        (tmp_path / "missing.kubeconfig", "cannot load the client configuration from"),
    ]:
        started = time.monotonic()
        proc = run_py(*LISTPODS, "--kubeconfig", str(kubeconfig), "--timeout", "5", timeout=30)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert expected in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert time.monotonic() - started < 15
