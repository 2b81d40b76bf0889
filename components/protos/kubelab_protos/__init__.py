"""kube-dev-lab: Python gRPC stubs for CRI, CSI and the kubelet plugin APIs.

The stubs are generated (never committed) into ``gen/`` from the .proto files of the Go
modules pinned in ``cluster/versions.toml`` by the cluster package's build step:
``kubelab-protos generate`` or ``nox -s protos``. Then, e.g.::

    from kubelab_protos.gen.cri.v1 import api_pb2, api_pb2_grpc

This package is runtime only (grpcio and protobuf): importing it is cheap, loads no
stub, and needs neither Go, protoc, nor the generator.
"""

from __future__ import annotations

from kubelab_protos.stubs import (
    StubsMissingError,
    bind_gen_root,
    gen_root,
    install_import_hint,
    is_generated,
    require_gen,
    services,
    stub_modules,
)

__all__ = [
    "StubsMissingError",
    "bind_gen_root",
    "gen_root",
    "is_generated",
    "require_gen",
    "services",
    "stub_modules",
]

install_import_hint()
