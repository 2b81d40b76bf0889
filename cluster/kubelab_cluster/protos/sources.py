"""The .proto files we generate stubs from: which Go module, which pin, which file.

Versions are never written here: each source names a pin of ``cluster/versions.toml``
and reads it through :func:`kubelab_cluster.pins.pins`. Each file is staged under
``kubelab_protos/gen/<package path>/`` so that files upstream all call ``api.proto``
become distinct, readable Python modules (``kubelab_protos.gen.cri.v1.api_pb2``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from kubelab_cluster.pins import Pins, pins

# The package the stubs are imported as (the stubs package ``components/protos`` + ``gen``).
# Generated modules import each other by this name, so it is part of what is generated.
GEN_PACKAGE = "kubelab_protos.gen"


@dataclass(frozen=True)
class ProtoSource:
    name: str  # how overrides and messages refer to it, e.g. "cri-v1"
    module: str  # Go module that ships the file
    pin: str  # dotted pin name in cluster/versions.toml
    path: str  # the file's path inside the module
    package: str  # Python package under kubelab_protos.gen, e.g. "cri.v1"
    proto_package: str  # the file's `package` statement: the prefix of every gRPC method path

    def version(self, p: Pins | None = None) -> str:
        return (p or pins()).get(self.pin)

    @property
    def staged_path(self) -> PurePosixPath:
        """Where the file sits relative to the protoc include root (and so its descriptor name)."""
        return PurePosixPath(*GEN_PACKAGE.split("."), *self.package.split("."), PurePosixPath(self.path).name)

    @property
    def module_name(self) -> str:
        """The generated messages module, e.g. ``kubelab_protos.gen.cri.v1.api_pb2``."""
        return f"{GEN_PACKAGE}.{self.package}.{PurePosixPath(self.path).stem}_pb2"

    @property
    def grpc_module_name(self) -> str:
        """The generated stubs/servicers module, e.g. ``kubelab_protos.gen.cri.v1.api_pb2_grpc``."""
        return f"{self.module_name}_grpc"


SOURCES: tuple[ProtoSource, ...] = (
    ProtoSource(
        "cri-v1", "k8s.io/cri-api", "kubernetes.staging", "pkg/apis/runtime/v1/api.proto", "cri.v1", "runtime.v1"
    ),
    ProtoSource(
        "csi-v1", "github.com/container-storage-interface/spec", "components.csi-spec", "csi.proto", "csi.v1", "csi.v1"
    ),
    ProtoSource(
        "deviceplugin-v1beta1",
        "k8s.io/kubelet",
        "kubernetes.staging",
        "pkg/apis/deviceplugin/v1beta1/api.proto",
        "deviceplugin.v1beta1",
        "v1beta1",
    ),
    ProtoSource(
        "pluginregistration-v1",
        "k8s.io/kubelet",
        "kubernetes.staging",
        "pkg/apis/pluginregistration/v1/api.proto",
        "pluginregistration.v1",
        "pluginregistration",
    ),
    ProtoSource(
        "dra-v1",
        "k8s.io/kubelet",
        "kubernetes.staging",
        "pkg/apis/dra/v1/api.proto",
        "dra.v1",
        "k8s.io.kubelet.pkg.apis.dra.v1",
    ),
    ProtoSource(
        "podresources-v1",
        "k8s.io/kubelet",
        "kubernetes.staging",
        "pkg/apis/podresources/v1/api.proto",
        "podresources.v1",
        "v1",
    ),
)

BY_NAME: dict[str, ProtoSource] = {s.name: s for s in SOURCES}
