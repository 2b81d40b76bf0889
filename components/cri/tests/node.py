"""A node for the runtime's tests: a registry with the busybox image, runc from the toolchain,
the runtime's services and streaming server on a socket of the test's, and the calls the
kubelet makes, as helpers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc

from kubelab_cri.images.registry import RegistryClient
from kubelab_cri.images.service import ImageService
from kubelab_cri.images.store import ImageStore
from kubelab_cri.runtime.containers import Containers
from kubelab_cri.runtime.info import RuntimeInfo
from kubelab_cri.runtime.runc import Runc
from kubelab_cri.runtime.sandboxes import Sandboxes
from kubelab_cri.runtime.service import RuntimeService
from kubelab_cri.streaming.operations import streaming_server
from kubelab_kit.cni.conflist import load_network
from kubelab_kit.grpc import Server
from kubelab_protos.gen.cri.v1 import api_pb2, api_pb2_grpc

from .pods import cni_bin_dir, config


@dataclass
class Node:
    root: Path
    logs: Path
    runtime: api_pb2_grpc.RuntimeServiceStub
    images: api_pb2_grpc.ImageServiceStub
    image: str

    @classmethod
    def over(cls, channel: grpc.Channel, root: Path, image: str) -> Node:
        """The node of a runtime serving under ``root``, through ``channel``."""
        return cls(
            root,
            root / "pods",
            api_pb2_grpc.RuntimeServiceStub(channel),
            api_pb2_grpc.ImageServiceStub(channel),
            image,
        )


@contextmanager
def server(root: Path, conf_dir: Path, runc_binary: str) -> Iterator[Server]:
    """The runtime's two services and its streaming server, as ``kubelab-cri serve`` wires them."""
    store = ImageStore(root / "store", RegistryClient())
    sandboxes = Sandboxes(root / "store", lambda: load_network(conf_dir, [str(cni_bin_dir())]))
    runc = Runc(runc_binary, root / "runc", systemd_cgroup=False)
    containers = Containers(root / "store", store, sandboxes, runc, cgroup_driver="cgroupfs")
    streaming = streaming_server(containers, sandboxes).start()
    runtime = RuntimeService(RuntimeInfo(cni_conf_dir=conf_dir), sandboxes, containers, streaming)
    services = [
        (api_pb2_grpc.add_RuntimeServiceServicer_to_server, runtime),
        (api_pb2_grpc.add_ImageServiceServicer_to_server, ImageService(store, in_use=containers.images_in_use)),
    ]
    try:
        with Server(root / "cri.sock", services) as srv:
            yield srv
    finally:
        streaming.stop()


def sandbox(n: Node, name: str, **extra: object) -> tuple[str, api_pb2.PodSandboxConfig]:
    cfg = config(name)
    cfg.hostname = f"{name}-host"
    cfg.log_directory = str(n.logs / name)
    cfg.dns_config.CopyFrom(api_pb2.DNSConfig(servers=["10.96.0.10"], searches=["default.svc.cluster.local"]))
    for key, value in extra.items():
        if key == "namespace_options":
            cfg.linux.security_context.namespace_options.CopyFrom(value)  # type: ignore[arg-type]
        else:
            setattr(cfg, key, value)
    return n.runtime.RunPodSandbox(api_pb2.RunPodSandboxRequest(config=cfg)).pod_sandbox_id, cfg


def container(
    n: Node, sandbox_id: str, sandbox_config: api_pb2.PodSandboxConfig, name: str, script: str, **linux: object
) -> str:
    cfg = api_pb2.ContainerConfig(
        metadata=api_pb2.ContainerMetadata(name=name),
        image=api_pb2.ImageSpec(image=n.image),
        command=["sh", "-c", script],
        log_path=f"{name}/0.log",
        labels={"io.kubernetes.container.name": name},
        envs=[api_pb2.KeyValue(key="GREETING", value=b"hello from the request")],
    )
    for key, value in linux.items():
        if key == "mounts":
            cfg.mounts.extend(value)  # type: ignore[arg-type]
        elif key == "resources":
            cfg.linux.resources.CopyFrom(value)  # type: ignore[arg-type]
        elif key == "tty":
            cfg.tty = bool(value)
        elif key == "stdin":
            cfg.stdin = bool(value)
        elif key == "supplemental_groups":
            cfg.linux.security_context.supplemental_groups.extend(value)  # type: ignore[arg-type]
        elif hasattr(value, "DESCRIPTOR"):  # a message field: Int64Value, NamespaceOption
            getattr(cfg.linux.security_context, key).CopyFrom(value)
        else:
            setattr(cfg.linux.security_context, key, value)
    request = api_pb2.CreateContainerRequest(pod_sandbox_id=sandbox_id, config=cfg, sandbox_config=sandbox_config)
    return n.runtime.CreateContainer(request).container_id


def status(n: Node, cid: str) -> api_pb2.ContainerStatus:
    return n.runtime.ContainerStatus(api_pb2.ContainerStatusRequest(container_id=cid)).status


def wait_exited(n: Node, cid: str, seconds: float = 20) -> api_pb2.ContainerStatus:
    deadline = time.monotonic() + seconds
    while (s := status(n, cid)).state != api_pb2.CONTAINER_EXITED:
        assert time.monotonic() < deadline, f"still {api_pb2.ContainerState.Name(s.state)}"
        time.sleep(0.1)
    return s


def exec_sync(n: Node, cid: str, *cmd: str, timeout: int = 10) -> api_pb2.ExecSyncResponse:
    return n.runtime.ExecSync(api_pb2.ExecSyncRequest(container_id=cid, cmd=list(cmd), timeout=timeout))
