"""Pod sandboxes (book 4.2): a pod's network namespace, wired by the node's CNI network.

A sandbox here is what CRI-O calls a pinned namespace, without a pause process: a named
network namespace (``kcri-<id>`` under ``/var/run/netns``) in which the node's network
configuration list is run with what a runtime passes (``CNI_ARGS`` with the pod's namespace,
name, UID and sandbox ID; ``portMappings`` to plugins that declare the capability), so the
cluster's own CNI plugin and portmap work unchanged. Host-network pods get none.

Each sandbox is a JSON record under ``root/sandboxes`` written after the network is up, so a
restarted runtime finds its sandboxes again; the CNI result is kept for DEL. A failed ADD is
undone (DEL through the list, the namespace deleted) before the error is reported: nothing
half-created. Stop is idempotent; remove of a sandbox already gone succeeds.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import grpc

from kubelab_cri.runtime.pod_namespaces import PodNamespaces
from kubelab_kit.cni import Netns, PluginError, PluginNotFound
from kubelab_kit.cni.conflist import Attachment, NetworkConfigError, NetworkList, add, delete
from kubelab_kit.grpc import GrpcStatusError, InvalidArgument, NotFound
from kubelab_protos.gen.cri.v1 import api_pb2

READY, NOTREADY = "SANDBOX_READY", "SANDBOX_NOTREADY"
NETNS_PREFIX = "kcri-"


@dataclass
class Sandbox:
    id: str
    name: str
    namespace: str
    uid: str
    attempt: int
    created_at: int
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    state: str = READY
    netns: str = ""  # the namespace's name ("" for host network)
    ips: list[str] = field(default_factory=list)
    network_result: dict[str, Any] = field(default_factory=dict)
    runtime_handler: str = ""
    hostname: str = ""
    log_directory: str = ""
    cgroup_parent: str = ""
    capabilities: dict[str, Any] = field(default_factory=dict)  # the capability arguments ADD had, for DEL
    sysctls: dict[str, str] = field(default_factory=dict)

    @property
    def netns_path(self) -> str:
        return Netns(self.netns).path if self.netns else ""

    def attachment(self) -> Attachment:
        cni_args = {
            "IgnoreUnknown": "1",
            "K8S_POD_NAMESPACE": self.namespace,
            "K8S_POD_NAME": self.name,
            "K8S_POD_INFRA_CONTAINER_ID": self.id,
            "K8S_POD_UID": self.uid,
        }
        return Attachment(self.id, self.netns_path, "eth0", cni_args, self.capabilities)

    def metadata(self) -> api_pb2.PodSandboxMetadata:
        return api_pb2.PodSandboxMetadata(name=self.name, uid=self.uid, namespace=self.namespace, attempt=self.attempt)


def port_mappings(config: api_pb2.PodSandboxConfig) -> list[dict[str, Any]]:
    """The ``portMappings`` capability argument, as containerd builds it (host ports only)."""
    names = {api_pb2.TCP: "tcp", api_pb2.UDP: "udp", api_pb2.SCTP: "sctp"}
    return [
        {"hostPort": p.host_port, "containerPort": p.container_port, "protocol": names[p.protocol], "hostIP": p.host_ip}
        for p in config.port_mappings
        if p.host_port > 0
    ]


class Sandboxes:
    def __init__(self, root: Path, network: Callable[[], NetworkList]) -> None:
        self.dir = root / "sandboxes"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.network = network
        self._lock = threading.Lock()

    # -- records -------------------------------------------------------------------------------
    def _path(self, sandbox_id: str) -> Path:
        return self.dir / f"{sandbox_id}.json"

    def _save(self, sandbox: Sandbox) -> None:
        partial = self._path(sandbox.id).with_suffix(".partial")
        partial.write_text(json.dumps(asdict(sandbox)))
        partial.replace(self._path(sandbox.id))

    def all(self) -> list[Sandbox]:
        return [Sandbox(**json.loads(p.read_text())) for p in sorted(self.dir.glob("*.json"))]

    def get(self, sandbox_id: str) -> Sandbox:
        path = self._path(sandbox_id) if sandbox_id and "/" not in sandbox_id else None
        if path is None or not path.is_file():
            raise NotFound(f"pod sandbox {sandbox_id!r} not found")
        return Sandbox(**json.loads(path.read_text()))

    # -- lifecycle -----------------------------------------------------------------------------
    def run(self, config: api_pb2.PodSandboxConfig, runtime_handler: str = "") -> Sandbox:
        meta = config.metadata
        missing = [f for f in ("name", "namespace", "uid") if not getattr(meta, f)]
        if missing:
            raise InvalidArgument(f"RunPodSandbox: metadata.{', metadata.'.join(missing)} must be set")
        if runtime_handler:
            raise InvalidArgument(f"RunPodSandbox: runtime handler {runtime_handler!r} is unknown (only the default)")
        host_network = config.linux.security_context.namespace_options.network == api_pb2.NODE
        sandbox = Sandbox(
            id=secrets.token_hex(32),
            name=meta.name,
            namespace=meta.namespace,
            uid=meta.uid,
            attempt=meta.attempt,
            created_at=time.time_ns(),
            labels=dict(config.labels),
            annotations=dict(config.annotations),
            hostname=config.hostname,
            log_directory=config.log_directory,
            cgroup_parent=config.linux.cgroup_parent,
            sysctls=dict(config.linux.sysctls),
        )
        self._write_files(sandbox, config)
        options = config.linux.security_context.namespace_options
        shared = self.namespaces(sandbox.id)
        try:
            shared.create(
                ipc=options.ipc == api_pb2.POD,
                uts=not host_network,
                hostname=config.hostname,
                pid=options.pid == api_pb2.POD,
            )
            if not host_network:
                self._network_up(sandbox, config)
        except BaseException:
            shared.release()
            shutil.rmtree(self.files(sandbox.id), ignore_errors=True)
            raise
        self._save(sandbox)
        return sandbox

    def namespaces(self, sandbox_id: str) -> PodNamespaces:
        """The IPC, UTS and (for shareProcessNamespace) PID namespaces the pod's containers join."""
        return PodNamespaces(self.files(sandbox_id) / "ns")

    def files(self, sandbox_id: str) -> Path:
        """The pod's own files, bound into each of its containers: ``resolv.conf``, ``hostname``."""
        return self.dir / sandbox_id

    def _write_files(self, sandbox: Sandbox, config: api_pb2.PodSandboxConfig) -> None:
        folder = self.files(sandbox.id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "resolv.conf").write_text(resolv_conf(config.dns_config))
        (folder / "hostname").write_text(f"{config.hostname}\n" if config.hostname else "")

    def _network_up(self, sandbox: Sandbox, config: api_pb2.PodSandboxConfig) -> None:
        try:
            net = self.network()
        except NetworkConfigError as exc:
            raise GrpcStatusError(f"RunPodSandbox: {exc}", code=grpc.StatusCode.FAILED_PRECONDITION) from exc
        ns = Netns.create(NETNS_PREFIX)  # kcri-<8 hex>: unique, and named apart from the sandbox ID
        sandbox.netns = ns.name
        ns.loopback_up()  # the runtime's job, not the network plugin's: 127.0.0.1 works in every pod
        sandbox.capabilities = {"portMappings": port_mappings(config)} if config.port_mappings else {}
        try:
            result = add(net, sandbox.attachment())
        except (PluginError, PluginNotFound) as exc:
            with contextlib.suppress(PluginError, PluginNotFound):  # the ADD's error is the one to report
                delete(net, sandbox.attachment(), None)
            ns.delete()
            raise GrpcStatusError(
                f"RunPodSandbox {sandbox.namespace}/{sandbox.name}: network {net.name!r}: {exc}",
                code=grpc.StatusCode.UNKNOWN,
            ) from exc
        sandbox.network_result = result
        sandbox.ips = [str(ip.get("address", "")).split("/")[0] for ip in result.get("ips") or [] if ip.get("address")]

    def stop(self, sandbox_id: str) -> Sandbox | None:
        """Stop the sandbox (its network torn down); None for one already removed (idempotent)."""
        with self._lock:
            try:
                sandbox = self.get(sandbox_id)
            except NotFound:
                return None
            if sandbox.netns:
                ns = Netns(sandbox.netns)
                if ns.exists():
                    try:
                        delete(self.network(), sandbox.attachment(), sandbox.network_result or None)
                    except (PluginError, PluginNotFound, NetworkConfigError) as exc:
                        raise GrpcStatusError(
                            f"StopPodSandbox {sandbox_id}: the network's DEL failed: {exc}",
                            code=grpc.StatusCode.UNKNOWN,
                        ) from exc
                    ns.delete()
            self.namespaces(sandbox_id).release()
            sandbox.state = NOTREADY
            self._save(sandbox)
            return sandbox

    def remove(self, sandbox_id: str) -> None:
        if self.stop(sandbox_id) is None:
            return  # already removed: idempotent
        shutil.rmtree(self.files(sandbox_id), ignore_errors=True)
        self._path(sandbox_id).unlink(missing_ok=True)

    # -- answers -------------------------------------------------------------------------------
    def status(self, sandbox_id: str) -> api_pb2.PodSandboxStatus:
        s = self.get(sandbox_id)
        network = None
        if s.ips:
            network = api_pb2.PodSandboxNetworkStatus(
                ip=s.ips[0], additional_ips=[api_pb2.PodIP(ip=ip) for ip in s.ips[1:]]
            )
        mode = api_pb2.POD if s.netns else api_pb2.NODE
        return api_pb2.PodSandboxStatus(
            id=s.id,
            metadata=s.metadata(),
            state=api_pb2.PodSandboxState.Value(s.state),
            created_at=s.created_at,
            network=network,
            linux=api_pb2.LinuxPodSandboxStatus(
                namespaces=api_pb2.Namespace(options=api_pb2.NamespaceOption(network=mode))
            ),
            labels=s.labels,
            annotations=s.annotations,
            runtime_handler=s.runtime_handler,
        )

    def list(self, wanted: api_pb2.PodSandboxFilter | None) -> list[api_pb2.PodSandbox]:
        out = []
        for s in self.all():
            if wanted is not None:
                if wanted.id and s.id != wanted.id:
                    continue
                if wanted.HasField("state") and api_pb2.PodSandboxState.Value(s.state) != wanted.state.state:
                    continue
                if not _matches(s.labels, wanted.label_selector):
                    continue
            out.append(
                api_pb2.PodSandbox(
                    id=s.id,
                    metadata=s.metadata(),
                    state=api_pb2.PodSandboxState.Value(s.state),
                    created_at=s.created_at,
                    labels=s.labels,
                    annotations=s.annotations,
                    runtime_handler=s.runtime_handler,
                )
            )
        return out


def resolv_conf(dns: api_pb2.DNSConfig, host: Path = Path("/etc/resolv.conf")) -> str:
    """The pod's resolv.conf: the kubelet's DNS config, or the node's own when it sends none."""
    if not (dns.servers or dns.searches or dns.options):
        try:
            return host.read_text()
        except OSError:
            return ""
    lines = [f"nameserver {server}" for server in dns.servers]
    if dns.searches:
        lines.append("search " + " ".join(dns.searches))
    if dns.options:
        lines.append("options " + " ".join(dns.options))
    return "\n".join(lines) + "\n"


def _matches(labels: Mapping[str, str], selector: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())
