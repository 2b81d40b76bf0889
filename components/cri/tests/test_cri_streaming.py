"""Streaming on this host, graded by a real client: crictl (the toolchain's, Go's SPDY client,
the same code the kubelet's proxy hands its bytes to) runs exec, exec with a TTY, attach and
port-forward against the runtime's streaming server."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from kubelab_cluster.pins import pins
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build
from kubelab_protos.gen.cri.v1 import api_pb2

from .node import Node, container, sandbox

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers need root")


@pytest.fixture(scope="module")
def crictl_binary() -> str:
    return str(build(BY_NAME["crictl"], pins()).binaries["crictl"])


def crictl(
    n: Node, binary: str, *args: str, stdin: str | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    endpoint = f"unix://{n.root / 'cri.sock'}"
    (n.root / "crictl.yaml").write_text(f"runtime-endpoint: {endpoint}\n")
    argv = [
        binary,
        "--config",
        str(n.root / "crictl.yaml"),
        "--runtime-endpoint",
        endpoint,
        "--image-endpoint",
        endpoint,
        "--timeout",
        "20s",
        *args,
    ]
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)


def running(n: Node, name: str, script: str, **extra: object) -> tuple[str, str]:
    sid, cfg = sandbox(n, name)
    cid = container(n, sid, cfg, name, script, **extra)
    n.runtime.StartContainer(api_pb2.StartContainerRequest(container_id=cid))
    return sid, cid


def test_exec_streams_output_input_and_exit_codes(node: Node, crictl_binary: str) -> None:
    _, cid = running(node, "ex", "exec sleep 3600")
    done = crictl(node, crictl_binary, "exec", cid, "sh", "-c", "echo out; echo err >&2")
    assert (done.returncode, done.stdout, done.stderr.strip().splitlines()[-1]) == (0, "out\n", "err"), done
    fed = crictl(node, crictl_binary, "exec", "-i", cid, "tr", "a-z", "A-Z", stdin="through stdin\n")
    assert fed.stdout == "THROUGH STDIN\n", fed
    failed = crictl(node, crictl_binary, "exec", cid, "sh", "-c", "exit 3")
    assert failed.returncode != 0 and "command terminated with exit code 3" in failed.stderr, failed


def test_exec_with_a_terminal(node: Node, crictl_binary: str) -> None:
    _, cid = running(node, "term", "exec sleep 3600")
    endpoint = f"unix://{node.root / 'cri.sock'}"
    inner = f"{crictl_binary} --runtime-endpoint {endpoint} exec -it {cid} sh -c 'tty; stty size'"
    out = subprocess.run(
        ["script", "-qec", f"stty cols 111 rows 33; {inner}", "/dev/null"], capture_output=True, text=True, timeout=30
    )
    # (script(1) forwards its own end of input into the terminal: a stray ^@, echoed, may precede any line)
    cleaned = (line.replace("^@", "").replace("\x00", "").strip() for line in out.stdout.splitlines())
    lines = [line for line in cleaned if line]
    assert lines[-2].endswith("/dev/pts/0") and lines[-1] == "33 111", out


def test_attach_to_a_container_reading_stdin(node: Node, crictl_binary: str) -> None:
    _, cid = running(node, "att", "read line; echo got:$line; sleep 1", stdin=True)
    done = crictl(node, crictl_binary, "attach", "-i", cid, stdin="hello\n")
    assert "got:hello" in done.stdout, done
    log = Path(node.runtime.ContainerStatus(api_pb2.ContainerStatusRequest(container_id=cid)).status.log_path)
    assert "got:hello" in log.read_text()


def test_port_forward_reaches_the_pods_loopback(node: Node, crictl_binary: str) -> None:
    sid, _ = running(
        node, "pf", "mkdir /www; echo forwarded > /www/index.html; exec httpd -f -p 127.0.0.1:8080 -h /www"
    )
    endpoint = f"unix://{node.root / 'cri.sock'}"
    forward = subprocess.Popen(
        [crictl_binary, "--runtime-endpoint", endpoint, "port-forward", sid, "18123:8080"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        body = ""
        while time.monotonic() < deadline:
            got = subprocess.run(
                ["/bin/busybox", "wget", "-qO-", "http://127.0.0.1:18123/"], capture_output=True, text=True
            )
            body = got.stdout
            if body:
                break
            time.sleep(0.3)
        assert body == "forwarded\n"
        refused = subprocess.Popen(
            [crictl_binary, "--runtime-endpoint", endpoint, "port-forward", sid, "18124:9999"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        time.sleep(1)
        subprocess.run(["/bin/busybox", "wget", "-qO-", "http://127.0.0.1:18124/"], capture_output=True, timeout=10)
        refused.terminate()
        text = refused.communicate(timeout=10)[0]
        assert "9999" in text and "refused" in text, text
    finally:
        forward.terminate()
        forward.wait(10)
