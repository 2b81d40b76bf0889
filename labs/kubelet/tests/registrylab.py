"""What only the kubelet lab's credential-provider checkpoints need: a second registry that requires a
password (``kubelab-auth-registry``: the cluster registry's image, distribution with an htpasswd
file), an image pushed to it, the credentials file the provider reads, the graded provider in the
kubelet's bin directory, and all of it taken away again (the reference provider put back)."""

from __future__ import annotations

import json
import secrets
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import bcrypt

from kubelab_cluster.images.busybox import CONFIG, busybox_layer
from kubelab_cluster.images.oci_registry import Registry, push_image
from kubelab_cluster.images.registry import build_registry_image
from kubelab_cluster.kind import credential_provider
from kubelab_cluster.kind.registry import NETWORK, configure_nodes, unconfigure_nodes
from kubelab_kit.files import atomic_write
from kubelab_labkit import pods
from kubelab_labkit.nodes import node_sh

NAME = "kubelab-auth-registry"
HOST_PORT = 5002
PREFIX = f"{NAME}:5000"  # how the nodes name it (cluster/credential-provider.yaml's matchImages)
IMAGE = f"{PREFIX}/kubelab/private:1"
USER = "kubelab-lab"
FLAGS_FILE = "/var/lib/kubelet/kubeadm-flags.env"


def provider_nodes(workers: list[str]) -> list[str]:
    """The workers whose kubelet runs the credential provider (cluster/kind.yaml gives the flag to one)."""
    return [n for n in workers if "image-credential-provider-config" in node_sh(n, f"cat {FLAGS_FILE}")]


def _config(auth: bool) -> str:
    text = "version: 0.1\nstorage: {filesystem: {rootdirectory: /var/lib/registry}}\nhttp: {addr: ':5000'}\n"
    if auth:
        text += "auth: {htpasswd: {realm: kubelab-lab, path: /etc/docker/registry/htpasswd}}\n"
    return text


def _ready(timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{HOST_PORT}/v2/", timeout=2)
        except urllib.error.HTTPError as exc:
            if exc.code == 401:  # it answers, and wants a password
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            logs = subprocess.run(["docker", "logs", NAME], capture_output=True, text=True, check=False)
            raise AssertionError(f"{NAME} did not answer with 401 on /v2/: {logs.stdout[-2000:]}{logs.stderr[-2000:]}")
        time.sleep(0.2)


def start(nodes: list[str]) -> str:
    """Run the registry with a fresh password, push the image; returns the password."""
    stop(nodes)
    password = secrets.token_urlsafe(18)
    folder = Path(tempfile.mkdtemp(prefix="kubelab-auth-registry-"))
    (folder / "config.yml").write_text(_config(auth=True))
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
    (folder / "htpasswd").write_text(f"{USER}:{hashed}\n")
    folder.chmod(0o755)
    subprocess.run(
        ["docker", "run", "-d", "--name", NAME, "--network", NETWORK, "-p", f"127.0.0.1:{HOST_PORT}:5000",
         "-v", f"{folder}:/etc/docker/registry:ro", "--label", f"dev.kubelab.config={folder}", build_registry_image()],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    _ready()
    config = {**CONFIG, "Cmd": ["sleep", "3600"]}
    registry = Registry(f"127.0.0.1:{HOST_PORT}", folder, (USER, password))
    push_image(registry, "kubelab/private", "1", [busybox_layer()], config=config)
    configure_nodes(nodes, PREFIX, f"http://{PREFIX}")
    return password


def stop(nodes: list[str]) -> None:
    """The registry, its files, the nodes' configuration for it and its image on the nodes go."""
    label = subprocess.run(["docker", "inspect", "-f", '{{index .Config.Labels "dev.kubelab.config"}}', NAME],
                           capture_output=True, text=True, check=False).stdout.strip()  # fmt: skip
    subprocess.run(["docker", "rm", "-f", NAME], capture_output=True, check=False)
    if label.startswith(tempfile.gettempdir()):
        subprocess.run(["rm", "-rf", label], check=False)
    unconfigure_nodes(nodes, PREFIX)
    for node in nodes:
        node_sh(node, f"crictl rmi {IMAGE} >/dev/null 2>&1 || true", check=False)


def write_credentials(password: str) -> None:
    """The file the provider reads on the nodes (/etc/kubelab/credential-provider/credentials.json)."""
    doc = {"registries": {PREFIX: {"username": USER, "password": password}}}
    atomic_write(credential_provider.CREDENTIALS, json.dumps(doc) + "\n", mode=0o600)


def remove_credentials() -> None:
    credential_provider.CREDENTIALS.unlink(missing_ok=True)


def private_pod(name: str, namespace: str, image: str, node: str) -> dict[str, Any]:
    """A pod of ``image`` on ``node`` (by a node selector), pulled at every start, with no imagePullSecrets."""
    return pods.pod(name, namespace, image, ["sleep", "3600"], node_selector={"kubernetes.io/hostname": node},
                    pull="Always")  # fmt: skip
