"""Fixtures of the runtime's tests that run containers (see node.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kubelab_cluster.images.busybox import CONFIG, busybox_layer
from kubelab_cluster.pins import pins
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build
from kubelab_kit.grpc import connect
from kubelab_protos.gen.cri.v1 import api_pb2, api_pb2_grpc

from .node import Node, server
from .oci import push_image, running_registry
from .pods import conflist


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_registry(tmp_path_factory.mktemp("registry")) as registry:
        push_image(registry, "test/busybox", "1", [busybox_layer()], config=CONFIG)
        yield f"{registry.host}/test/busybox:1"


@pytest.fixture(scope="module")
def runc_binary() -> str:
    return str(build(BY_NAME["runc"], pins()).binaries["runc"])


@pytest.fixture
def node(tmp_path: Path, image: str, runc_binary: str) -> Iterator[Node]:
    conf_dir = conflist(tmp_path)
    with server(tmp_path, conf_dir, runc_binary) as srv, connect(srv.path) as channel:
        images = api_pb2_grpc.ImageServiceStub(channel)
        images.PullImage(api_pb2.PullImageRequest(image=api_pb2.ImageSpec(image=image)))
        n = Node.over(channel, tmp_path, image)
        yield n
        for s in n.runtime.ListPodSandbox(api_pb2.ListPodSandboxRequest()).items:
            n.runtime.RemovePodSandbox(api_pb2.RemovePodSandboxRequest(pod_sandbox_id=s.id))
