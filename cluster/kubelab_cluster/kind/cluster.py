"""Create, reuse, check and delete the kind cluster described by ``cluster/kind.yaml``.

A cluster is reused only when it is healthy and runs the current node image; a
broken or stale one (an interrupted run, a changed pin) is deleted and recreated,
never silently reused.
"""

from __future__ import annotations

import hashlib
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kubelab_cluster.cache import cache_root
from kubelab_cluster.images.node import REPO as NODE_REPO
from kubelab_cluster.images.node import build_node_image
from kubelab_cluster.kind import credential_provider, webhook_pki
from kubelab_cluster.kind.errors import ClusterError
from kubelab_cluster.kind.freezer import container_ids, thaw
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.kind.network import install_default_network
from kubelab_cluster.kind.preflight import CLUSTER_FILES, PreflightError, preflight
from kubelab_cluster.kind.registry import ensure_registry
from kubelab_cluster.pins import Pins, repo_root
from kubelab_cluster.progress import console, step
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build


def kind_config() -> Path:
    return repo_root() / "cluster" / "kind.yaml"


# Files cluster/kind.yaml hands to the control plane at boot, beside it in cluster/: copied into
# the nodes' /etc/kubelab (CLUSTER_FILES) before the cluster is created.
BOOT_FILES = (
    "kube-scheduler.yaml", "apiserver-authentication.yaml", "apiserver-authorization.yaml", "credential-provider.yaml",
)  # fmt: skip


def boot_files() -> list[Path]:
    return [repo_root() / "cluster" / name for name in BOOT_FILES]


def install_boot_files() -> None:
    CLUSTER_FILES.mkdir(parents=True, exist_ok=True)
    for source in boot_files():
        (CLUSTER_FILES / source.name).write_bytes(source.read_bytes())
    credential_provider.install()  # the kubelet of a worker with the provider refuses to start without it


def cluster_name() -> str:
    name: str = yaml.safe_load(kind_config().read_text())["name"]
    return name


def pod_subnet() -> str:
    subnet: str = yaml.safe_load(kind_config().read_text())["networking"]["podSubnet"]
    return subnet


def kubeconfig_path(name: str | None = None) -> Path:
    return cache_root() / "clusters" / f"{name or cluster_name()}.kubeconfig"


def config_digest() -> str:
    """What the cluster was created from: cluster/kind.yaml's bytes and its boot files'."""
    digest = hashlib.sha256(kind_config().read_bytes())
    for source in boot_files():
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]


def config_stamp(name: str | None = None) -> Path:
    return cache_root() / "clusters" / f"{name or cluster_name()}.kind-yaml.sha256"


# Where a lab that swaps a node's static pod (labs' kubelab_labkit.static_pods) keeps the original
# until it puts it back: anything there means a lab run ended before it restored the cluster.
SWAPPED_ORIGINALS = "/etc/kubernetes/kubelab-saved"


@dataclass
class Health:
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Cluster:
    name: str
    kind: Path
    kubectl: Kubectl

    @classmethod
    def for_pins(cls, pins: Pins) -> Cluster:
        kind = build(BY_NAME["kind"], pins).binaries["kind"]
        kubectl = build(BY_NAME["kubectl"], pins).binaries["kubectl"]
        name = cluster_name()
        return cls(name, kind, Kubectl(kubectl, kubeconfig_path(name)))

    def _kind(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([str(self.kind), *args], capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise ClusterError(f"kind {' '.join(args)} failed", command=[str(self.kind), *args], output=proc.stderr)
        return proc

    def exists(self) -> bool:
        return self.name in self._kind("get", "clusters").stdout.split()

    def node_containers(self) -> list[str]:
        return self._kind("get", "nodes", "--name", self.name).stdout.split()

    def foreign_nodes(self) -> list[str]:
        """Node containers of a same-named cluster that does not run our node image."""
        foreign = []
        for c in self.node_containers():
            out = subprocess.run(
                ["docker", "inspect", "-f", "{{.Config.Image}}", c], capture_output=True, text=True, check=False
            )
            if not out.stdout.strip().startswith(f"{NODE_REPO}:"):
                foreign.append(c)
        return foreign

    def health(self, image: str | None = None) -> Health:
        h = Health()
        containers = self.node_containers()
        expected = len(yaml.safe_load(kind_config().read_text())["nodes"])
        if len(containers) != expected:
            h.problems.append(f"{len(containers)} node containers, the config has {expected}")
        for c in containers:
            fmt = "{{.State.Running}} {{.Config.Image}}"
            out = subprocess.run(["docker", "inspect", "-f", fmt, c], capture_output=True, text=True, check=False)
            running, _, img = out.stdout.strip().partition(" ")
            if running != "true":
                h.problems.append(f"node container {c} is not running")
            elif image and img != image:
                h.problems.append(f"node {c} runs {img}, not the current {image}")
            else:
                saved = subprocess.run(
                    ["docker", "exec", c, "sh", "-c", f"ls {SWAPPED_ORIGINALS} 2>/dev/null"],
                    capture_output=True, text=True, check=False,
                ).stdout.split()  # fmt: skip
                if saved:
                    h.problems.append(f"node {c} still runs a lab's swapped {', '.join(saved)} (not put back)")
        stamp = config_stamp(self.name)
        if not stamp.is_file() or stamp.read_text().strip() != config_digest():
            h.problems.append("cluster/kind.yaml changed since the cluster was created (or it was created elsewhere)")
        if gone := webhook_pki.missing(CLUSTER_FILES):
            h.problems.append(f"files kube-apiserver read at start are gone from {CLUSTER_FILES}: {', '.join(gone)}")
        if h.problems:
            return h
        try:
            self._kind("export", "kubeconfig", "--name", self.name, "--kubeconfig", str(self.kubectl.kubeconfig))
            nodes = self.kubectl.json("get", "nodes")["items"]
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            h.problems.append(f"API server not answering: {exc}")
            return h
        for node in nodes:
            ready = next((c["status"] for c in node["status"].get("conditions", []) if c["type"] == "Ready"), "?")
            if ready != "True":
                h.problems.append(f"node {node['metadata']['name']} is not Ready")
        return h

    def delete(self) -> None:
        thaw(container_ids(self.node_containers()))  # cgroup v1: what runc left frozen blocks the removal
        self._kind("delete", "cluster", "--name", self.name, "--kubeconfig", str(self.kubectl.kubeconfig))

    def create(self, image: str, wait_s: float = 300) -> None:
        self.kubectl.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            str(self.kind),
            "create",
            "cluster",
            "--name",
            self.name,
            "--image",
            image,
            "--config",
            str(kind_config()),
            "--kubeconfig",
            str(self.kubectl.kubeconfig),
            "--retain",
        ]
        config_stamp(self.name).unlink(missing_ok=True)
        install_boot_files()
        webhook_pki.make(CLUSTER_FILES)  # a new cluster, a new CA: kube-apiserver reads it at start
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=repo_root())
        if proc.returncode != 0:
            logs = self._collect_failure_hint()
            raise ClusterError(
                "kind create cluster failed",
                command=cmd,
                output=f"{proc.stdout}{proc.stderr}\n{logs}",
                fix="read the nodes' console lines above; `uv run kubelab-cluster down`, then `nox -s cluster` again",
            )
        config_stamp(self.name).write_text(config_digest() + "\n")
        install_default_network(self.kubectl, pod_subnet())
        ensure_registry(self.node_containers())
        self.wait_ready(wait_s)

    def _collect_failure_hint(self) -> str:
        hints = []
        for c in self.node_containers():
            out = subprocess.run(["docker", "logs", "--tail", "30", c], capture_output=True, text=True, check=False)
            hints.append(f"--- last lines of {c}'s console:\n{out.stdout}{out.stderr}")
        return "\n".join(hints)

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        self.kubectl.run(
            "wait", "--for=condition=Ready", "nodes", "--all", f"--timeout={int(timeout_s)}s", timeout=timeout_s + 10
        )
        left = max(10, int(deadline - time.monotonic()))
        self.kubectl.run(
            "-n", "kube-system", "rollout", "status", "deployment/coredns", f"--timeout={left}s", timeout=left + 10
        )
        # The control plane's static pods pass their readiness probes a little after the
        # node is Ready: "ready" means every kube-system pod is.
        left = max(10, int(deadline - time.monotonic()))
        self.kubectl.run(
            "-n",
            "kube-system",
            "wait",
            "--for=condition=Ready",
            "pods",
            "--all",
            f"--timeout={left}s",
            timeout=left + 10,
        )


def ensure_cluster(pins: Pins) -> Cluster:
    """Create the cluster, or reuse a healthy one on the current node image."""
    preflight()
    with step("node image") as s:
        image = build_node_image(pins)
        s.note = image
    cluster = Cluster.for_pins(pins)
    if cluster.exists():
        foreign = cluster.foreign_nodes()
        if foreign:
            raise PreflightError(
                f"a kind cluster named {cluster.name!r} exists that this project did not create "
                f"(nodes {', '.join(foreign)} do not run a {NODE_REPO} image); it is left alone. Fix: delete it "
                f"(`kind delete cluster --name {cluster.name}`) or choose another `name:` in cluster/kind.yaml"
            )
        health = cluster.health(image)
        if health.ok:
            install_boot_files()  # the same bytes (the stamp matched): back if a lab removed them
            ensure_registry(cluster.node_containers())
            console.print(f"cluster {cluster.name}: healthy, reused")
            return cluster
        console.print(f"cluster {cluster.name}: recreating, because: " + "; ".join(health.problems))
        with step(f"delete cluster {cluster.name}"):
            cluster.delete()
    with step(f"create cluster {cluster.name}"):
        cluster.create(image)
    return cluster
