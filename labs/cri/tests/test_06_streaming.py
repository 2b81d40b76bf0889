"""Checkpoint 6 (book 4.3): `kubectl exec` (with and without a terminal), `kubectl attach` and
`kubectl port-forward` reach pods on the kubelab-cri node: the kubelet proxies each to the
runtime's own streaming server (SPDY/3.1)."""

from __future__ import annotations

import re
import shlex
import subprocess
import urllib.request

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, pods
from kubelab_labkit.waiting import eventually

READER = "while read line; do echo got:$line; done; echo input ended"


def kubectl_argv(kubectl: Kubectl, *args: str) -> list[str]:
    return [str(kubectl.binary), "--kubeconfig", str(kubectl.kubeconfig), *args]


def test_06_exec_attach_port_forward(kubectl: Kubectl, cri_node: str, namespace: str, busybox: str) -> None:
    """exec: output, stdin and the exit code; exec -it: a terminal of the client's size; attach:
    input to a container reading stdin and its answer; port-forward: a local port to the pod's.

    Hint (4.3): Exec/Attach/PortForward answer with a URL of the runtime's streaming server
    (kubelab_cri/streaming/server.py); the kubelet proxies the client's SPDY upgrade there.
    On the node: `crictl --runtime-endpoint unix:///run/kubelab-cri/kubelab-cri.sock exec -it CONTAINER sh`.
    """
    web = kubectl.json("-n", namespace, "get", "pods", "-l", "app=web")["items"][0]["metadata"]["name"]
    assert kubectl.run("-n", namespace, "exec", web, "--", "hostname").strip() == web
    upper = kubectl.run("-n", namespace, "exec", "-i", web, "--", "tr", "a-z", "A-Z", stdin="through stdin\n")
    assert upper == "THROUGH STDIN\n"
    failed = kubectl.attempt("-n", namespace, "exec", web, "--", "sh", "-c", "exit 3")
    assert failed.returncode == 3, (failed.returncode, failed.stderr)

    inner = shlex.join(kubectl_argv(kubectl, "-n", namespace, "exec", "-it", web, "--", "sh", "-c", "tty; stty size"))
    terminal = subprocess.run(
        ["script", "-qec", f"stty cols 101 rows 31; {inner}", "/dev/null"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # With no input, script(1) sends the terminal's EOF character once its stdin ends; the local
    # terminal may echo it (as ^@, before or after the remote output): the echoes are not the pod's.
    echoed = re.sub(r"\^[@A-Z\[\\\]^_?]", "", terminal.stdout)
    lines = [line.strip() for line in echoed.splitlines() if line.strip()]
    assert len(lines) >= 2 and lines[-2].endswith("/dev/pts/0") and lines[-1] == "31 101", terminal

    reader = pods.pod("reader", namespace, busybox, ["sh", "-c", READER], node=cri_node)
    reader["spec"]["containers"][0].update({"stdin": True, "stdinOnce": True})
    kube.apply(kubectl, reader)
    pods.wait_phase(kubectl, namespace, "reader", {"Running"}, timeout=120)
    attached = kubectl.attempt("-n", namespace, "attach", "-i", "reader", "-c", "main", stdin="hello\n", timeout=60)
    assert "got:hello" in attached.stdout, (attached.stdout, attached.stderr)
    phase, logs = pods.wait_done(kubectl, namespace, "reader", timeout=60)
    assert phase == "Succeeded" and "got:hello" in logs and "input ended" in logs, logs

    forward = subprocess.Popen(
        kubectl_argv(kubectl, "-n", namespace, "port-forward", f"pod/{web}", "18234:8080"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def fetched() -> str:
            try:
                with urllib.request.urlopen("http://127.0.0.1:18234/", timeout=5) as answer:
                    return str(answer.read().decode().strip())
            except OSError as exc:  # not forwarding yet
                raise AssertionError(str(exc)) from exc

        assert eventually(fetched, timeout=30, what="an answer through the forwarded port") == web
        assert fetched() == web, "a second connection through the same forward"
    finally:
        forward.terminate()
        forward.wait(10)
