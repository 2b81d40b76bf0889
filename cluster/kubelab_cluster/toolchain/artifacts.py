"""The recipes: what each toolchain artifact is built from and how it is stamped.

Versions are never written here; each recipe names the pin it reads from
``cluster/versions.toml``. A *workspace* is a generated Go wrapper module (see
``gomodule.py``); an *artifact* is one ``go build`` (or ``go test -c``) command run
inside a workspace, timed and cached on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kubelab_cluster.toolchain.patches import SourcePatch
from kubelab_cluster.toolchain.stamping import Stamp, kube_ldflags, x_flags


@dataclass(frozen=True)
class Workspace:
    """A Go wrapper module: which upstream modules it requires, at which pins."""

    name: str
    requires: dict[str, str]  # module path -> pin name
    # Upstream modules whose go.mod replaces siblings by local path (Kubernetes' staging
    # repos, etcd's sub-modules): such replaces are invisible to a dependent module, so
    # the wrapper maps each replaced module to a published version instead.
    local_replaces_of: dict[str, str] = field(default_factory=dict)  # module -> pin of the siblings
    # Small main packages of our own, for projects whose main package is not published
    # as a module of its own (relative dir -> Go source).
    mains: dict[str, str] = field(default_factory=dict)
    module_path: str = ""
    # A copy of the (one) required module's own source instead of a wrapper: the build runs in it
    # as the main module, so its go.mod's replace directives apply (the CSI sidecars pin their
    # k8s.io/* dependencies that way, and `go install mod@version` refuses such modules).
    source: bool = False
    # In a source workspace: modules its go.mod replaces by a local path that the module zip does
    # not hold (external-snapshotter's ./client), required at a published version instead.
    source_requires: dict[str, str] = field(default_factory=dict)  # module -> pin
    # Required modules built from a patched copy of their source (see patches.py).
    patches: tuple[SourcePatch, ...] = ()

    @property
    def path(self) -> str:
        return self.module_path or f"kubelab.local/toolchain/{self.name}"


@dataclass(frozen=True)
class Artifact:
    """One timed build step producing one or more binaries."""

    name: str
    workspace: Workspace
    pin: str  # the pin that is "this artifact's version"
    stamp_module: str  # module whose content hash and date stamp the binary
    binaries: dict[str, str]  # output file name -> Go package
    ldflags: Callable[[Stamp], list[str]] = lambda _s: []
    tags: tuple[str, ...] = ()
    cgo: bool = False
    static: bool = False  # link statically (cgo binaries)
    test_binary: bool = False  # build with `go test -c` (critest)
    debian_build_deps: tuple[str, ...] = ()  # Debian packages the build needs (headers, static libs)
    # How the lab checks the stamp: argv after the binary, and the text it must print.
    version_args: tuple[str, ...] = ("--version",)
    version_env: dict[str, str] = field(default_factory=dict)

    @property
    def version_suffix(self) -> str:
        """What a patched build appends to its pin's version (``v1.37.2-kubelab``)."""
        return "".join(p.version_suffix for p in self.workspace.patches)

    def recipe(self) -> dict[str, object]:
        """Everything about the recipe that changes the output (goes into the cache key)."""
        workspace: dict[str, object] = {
            "name": self.workspace.name,
            "requires": self.workspace.requires,
            "local": self.workspace.local_replaces_of,
            "mains": self.workspace.mains,
        }
        if self.workspace.source:  # only then: the keys of every other artifact stay as they were
            workspace |= {"source": True, "source_requires": self.workspace.source_requires}
        if self.workspace.patches:  # likewise; the patches' content is in the workspace key
            workspace |= {"patches": [p.folder for p in self.workspace.patches]}
        return {
            "workspace": workspace,
            "binaries": self.binaries,
            "tags": self.tags,
            "cgo": self.cgo,
            "static": self.static,
            "test": self.test_binary,
            "stamp_module": self.stamp_module,
            # The linker flags as rendered for a placeholder stamp: which symbols get set.
            "ldflags": self.ldflags(Stamp("v0.0.0-key", "0" * 40, "clean", "1970-01-01T00:00:00Z")),
        }


KUBERNETES = Workspace(
    name="kubernetes",
    requires={"k8s.io/kubernetes": "kubernetes.version"},
    local_replaces_of={"k8s.io/kubernetes": "kubernetes.staging"},
)

# Kubernetes' e2e suite and its test images' binary, in a wrapper of their own (the same module
# and pins as KUBERNETES): adding them there would change that workspace's key, and so every
# Kubernetes binary's, for builds that do not need them.
KUBERNETES_E2E = Workspace(
    name="kubernetes-e2e",
    requires={"k8s.io/kubernetes": "kubernetes.version"},
    local_replaces_of={"k8s.io/kubernetes": "kubernetes.staging"},
)

# kube-apiserver with the API server lab's admission plugin compiled in (Chapter 7.3): the same
# wrapper, k8s.io/kubernetes replaced by a patched copy of its source.
KUBERNETES_ADMISSION = Workspace(
    name="kubernetes-admission",
    requires={"k8s.io/kubernetes": "kubernetes.version"},
    local_replaces_of={"k8s.io/kubernetes": "kubernetes.staging"},
    patches=(SourcePatch("components/apiserver/kube-apiserver-plugin"),),
)

# The kubelet with Chapter 9's allocation ratios and node condition: the same wrapper, k8s.io/kubernetes
# replaced by a copy of its source patched by kubelet-plugins/kubelet-patch.
KUBERNETES_KUBELET = Workspace(
    name="kubernetes-kubelet",
    requires={"k8s.io/kubernetes": "kubernetes.version"},
    local_replaces_of={"k8s.io/kubernetes": "kubernetes.staging"},
    patches=(SourcePatch("kubelet-plugins/kubelet-patch"),),
)

KIND = Workspace(name="kind", requires={"sigs.k8s.io/kind": "components.kind"})
CRI_TOOLS = Workspace(name="cri-tools", requires={"sigs.k8s.io/cri-tools": "components.cri-tools"})
CONTAINERD = Workspace(name="containerd", requires={"github.com/containerd/containerd/v2": "components.containerd"})
RUNC = Workspace(name="runc", requires={"github.com/opencontainers/runc": "components.runc"})
COREDNS = Workspace(name="coredns", requires={"github.com/coredns/coredns": "components.coredns"})
CNI_PLUGINS = Workspace(
    name="cni-plugins", requires={"github.com/containernetworking/plugins": "components.cni-plugins"}
)
CNI = Workspace(name="cni", requires={"github.com/containernetworking/cni": "components.cni"})
CSI_TEST = Workspace(name="csi-test", requires={"github.com/kubernetes-csi/csi-test/v5": "components.csi-test"})
CSI_PROVISIONER = Workspace(
    name="external-provisioner",
    requires={"github.com/kubernetes-csi/external-provisioner/v6": "components.external-provisioner"},
    source=True,
)
CSI_RESIZER = Workspace(
    name="external-resizer", requires={"github.com/kubernetes-csi/external-resizer/v2": "components.external-resizer"}
)
CSI_SNAPSHOTTER = Workspace(
    name="external-snapshotter",
    requires={"github.com/kubernetes-csi/external-snapshotter/v8": "components.external-snapshotter"},
    source=True,
    source_requires={"github.com/kubernetes-csi/external-snapshotter/client/v8": "components.external-snapshotter"},
)

# etcd publishes its server as a library module; the tiny `main` lives in the root
# module, which the proxy does not serve for 3.7. Ours is the same two lines.
ETCD_MAIN = """package main

import (
\t"os"

\t"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
"""
ETCD = Workspace(
    name="etcd",
    requires={"go.etcd.io/etcd/server/v3": "components.etcd", "go.etcd.io/etcd/etcdctl/v3": "components.etcd"},
    local_replaces_of={
        "go.etcd.io/etcd/server/v3": "components.etcd",
        "go.etcd.io/etcd/etcdctl/v3": "components.etcd",
    },
    mains={"cmd/etcd": ETCD_MAIN},
)


def _kube(
    binary: str, version_args: tuple[str, ...] = ("--version",), *, workspace: Workspace = KUBERNETES, name: str = ""
) -> Artifact:
    return Artifact(
        name=name or binary,
        workspace=workspace,
        pin="kubernetes.version",
        stamp_module="k8s.io/kubernetes",
        binaries={binary: f"k8s.io/kubernetes/cmd/{binary}"},
        ldflags=kube_ldflags,
        version_args=version_args,
    )


CNI_PLUGIN_PACKAGES = {
    name: f"github.com/containernetworking/plugins/plugins/{kind}/{name}"
    for kind, names in {
        "main": ("bridge", "ptp", "loopback", "host-device", "ipvlan", "macvlan", "vlan", "dummy", "tap"),
        "ipam": ("host-local", "static", "dhcp"),
        "meta": ("portmap", "bandwidth", "firewall", "tuning", "sbr", "vrf"),
    }.items()
    for name in names
}


def _containerd_flags(stamp: Stamp) -> list[str]:
    pkg = "github.com/containerd/containerd/v2/version"
    return x_flags(
        {
            f"{pkg}.Version": stamp.version,
            f"{pkg}.Revision": stamp.commit,
            f"{pkg}.Package": "github.com/containerd/containerd/v2",
        }
    )


ARTIFACTS: tuple[Artifact, ...] = (
    _kube("kubelet"),
    _kube("kubeadm", ("version", "-o", "json")),
    _kube("kubectl", ("version", "--client", "-o", "json")),
    _kube("kube-apiserver"),
    _kube("kube-controller-manager"),
    _kube("kube-scheduler"),
    _kube("kube-proxy"),
    Artifact(
        name="kind",
        workspace=KIND,
        pin="components.kind",
        stamp_module="sigs.k8s.io/kind",
        binaries={"kind": "sigs.k8s.io/kind"},
        ldflags=lambda s: x_flags({"sigs.k8s.io/kind/pkg/cmd/kind/version.gitCommit": s.commit}),
        version_args=("version",),
    ),
    Artifact(
        name="crictl",
        workspace=CRI_TOOLS,
        pin="components.cri-tools",
        stamp_module="sigs.k8s.io/cri-tools",
        binaries={"crictl": "sigs.k8s.io/cri-tools/cmd/crictl"},
        ldflags=lambda s: x_flags({"sigs.k8s.io/cri-tools/pkg/version.Version": s.version}),
    ),
    Artifact(
        name="critest",
        workspace=CRI_TOOLS,
        pin="components.cri-tools",
        stamp_module="sigs.k8s.io/cri-tools",
        binaries={"critest": "sigs.k8s.io/cri-tools/cmd/critest"},
        ldflags=lambda s: x_flags({"sigs.k8s.io/cri-tools/pkg/version.Version": s.version}),
        test_binary=True,
        version_args=("-version",),
    ),
    Artifact(
        name="etcd",
        workspace=ETCD,
        pin="components.etcd",
        stamp_module="go.etcd.io/etcd/server/v3",
        binaries={"etcd": "kubelab.local/toolchain/etcd/cmd/etcd", "etcdctl": "go.etcd.io/etcd/etcdctl/v3"},
        ldflags=lambda s: x_flags({"go.etcd.io/etcd/api/v3/version.GitSHA": s.commit[:12]}),
    ),
    Artifact(
        name="coredns",
        workspace=COREDNS,
        pin="components.coredns",
        stamp_module="github.com/coredns/coredns",
        binaries={"coredns": "github.com/coredns/coredns"},
        ldflags=lambda s: x_flags({"github.com/coredns/coredns/coremain.GitCommit": s.commit[:12]}),
        version_args=("-version",),
    ),
    Artifact(
        name="containerd",
        workspace=CONTAINERD,
        pin="components.containerd",
        stamp_module="github.com/containerd/containerd/v2",
        binaries={
            "containerd": "github.com/containerd/containerd/v2/cmd/containerd",
            "containerd-shim-runc-v2": "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2",
            "ctr": "github.com/containerd/containerd/v2/cmd/ctr",
        },
        ldflags=_containerd_flags,
        tags=("no_btrfs", "urfave_cli_no_docs"),
    ),
    Artifact(
        name="runc",
        workspace=RUNC,
        pin="components.runc",
        stamp_module="github.com/opencontainers/runc",
        binaries={"runc": "github.com/opencontainers/runc"},
        ldflags=lambda s: x_flags({"main.gitCommit": s.commit[:12]}),
        tags=("seccomp", "urfave_cli_no_docs", "netgo", "osusergo"),
        cgo=True,
        static=True,
        debian_build_deps=("libseccomp-dev", "gcc", "pkg-config"),
    ),
    Artifact(
        name="cni-plugins",
        workspace=CNI_PLUGINS,
        pin="components.cni-plugins",
        stamp_module="github.com/containernetworking/plugins",
        binaries=CNI_PLUGIN_PACKAGES,
        ldflags=lambda s: x_flags(
            {"github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion": s.version}
        ),
        version_args=(),
        version_env={"CNI_COMMAND": "VERSION"},
    ),
    Artifact(
        name="cnitool",
        workspace=CNI,
        pin="components.cni",
        stamp_module="github.com/containernetworking/cni",
        binaries={"cnitool": "github.com/containernetworking/cni/cnitool"},
        version_args=(),
    ),
    Artifact(
        name="csi-sanity",
        workspace=CSI_TEST,
        pin="components.csi-test",
        stamp_module="github.com/kubernetes-csi/csi-test/v5",
        binaries={"csi-sanity": "github.com/kubernetes-csi/csi-test/v5/cmd/csi-sanity"},
        ldflags=lambda s: x_flags({"main.VERSION": s.version}),
        version_args=("-version",),
    ),
)


def _sidecar(name: str, workspace: Workspace, pin: str, commands: dict[str, str]) -> Artifact:
    """A CSI sidecar: each command's ``main.version`` set to the pin, as its Makefile does."""
    module = next(iter(workspace.requires))
    return Artifact(
        name=name,
        workspace=workspace,
        pin=pin,
        stamp_module=module,
        binaries={binary: f"{module}/cmd/{cmd}" for binary, cmd in commands.items()},
        ldflags=lambda s: x_flags({"main.version": s.version}),
    )


def _e2e(name: str, package: str, *, test: bool) -> Artifact:
    return Artifact(
        name=name,
        workspace=KUBERNETES_E2E,
        pin="kubernetes.version",
        stamp_module="k8s.io/kubernetes",
        binaries={name: package},
        ldflags=kube_ldflags if test else (lambda _s: []),
        test_binary=test,
    )


ARTIFACTS += (
    # Kubernetes' e2e suite (a `go test -c` binary, stamped like the Kubernetes binaries) and the
    # binary of its agnhost test image.
    _e2e("e2e.test", "k8s.io/kubernetes/test/e2e", test=True),
    _e2e("agnhost", "k8s.io/kubernetes/test/images/agnhost", test=False),
    _sidecar(
        "csi-provisioner", CSI_PROVISIONER, "components.external-provisioner", {"csi-provisioner": "csi-provisioner"}
    ),
    _sidecar("csi-resizer", CSI_RESIZER, "components.external-resizer", {"csi-resizer": "csi-resizer"}),
    _sidecar(
        "csi-snapshotter",
        CSI_SNAPSHOTTER,
        "components.external-snapshotter",
        {"csi-snapshotter": "csi-snapshotter", "snapshot-controller": "snapshot-controller"},
    ),
)

ARTIFACTS += (
    # The patched kube-apiserver the API server lab swaps in (stamped with the patch's suffix).
    _kube("kube-apiserver", workspace=KUBERNETES_ADMISSION, name="kube-apiserver-kubelab"),
    # The patched kubelet the kubelet lab swaps into one worker (Chapter 9).
    _kube("kubelet", workspace=KUBERNETES_KUBELET, name="kubelet-kubelab"),
)

BY_NAME: dict[str, Artifact] = {a.name: a for a in ARTIFACTS}


def workspaces() -> dict[str, Workspace]:
    return {a.workspace.name: a.workspace for a in ARTIFACTS}


def tools_of(ws: Workspace) -> list[str]:
    """The packages a workspace must keep in its go.mod (``tool`` directives)."""
    return sorted({pkg for a in ARTIFACTS if a.workspace is ws for pkg in a.binaries.values()})
