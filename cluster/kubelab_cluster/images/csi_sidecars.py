"""The CSI sidecar images (Chapter 6), each its toolchain binary on a scratch root filesystem.

Upstream's images are the same: one static binary, nothing else. Tags carry the sidecar's pin
and a content key (``kubelab/csi-provisioner:v6.3.0-<key>``), so a rebuilt binary is a new tag
that nodes pull, and an unchanged one builds nothing.
"""

from __future__ import annotations

from pathlib import Path

from kubelab_cluster.images.control_plane import ImageSpec, build_image, image_key
from kubelab_cluster.pins import Pins
from kubelab_cluster.progress import step
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.gotool import GoRunner

REPO = "kubelab"
SIDECARS = (
    ImageSpec("csi-provisioner", {"/csi-provisioner": ("csi-provisioner", "csi-provisioner")}, ("/csi-provisioner",)),
    ImageSpec("csi-resizer", {"/csi-resizer": ("csi-resizer", "csi-resizer")}, ("/csi-resizer",)),
    ImageSpec("csi-snapshotter", {"/csi-snapshotter": ("csi-snapshotter", "csi-snapshotter")}, ("/csi-snapshotter",)),
    ImageSpec(
        "snapshot-controller",
        {"/snapshot-controller": ("csi-snapshotter", "snapshot-controller")},
        ("/snapshot-controller",),
    ),
)


def sidecar_ref(spec: ImageSpec, pins: Pins) -> str:
    ((artifact, _binary),) = spec.files.values()
    version = pins.get(BY_NAME[artifact].pin)
    repo = f"{REPO}/{spec.component}"
    return f"{repo}:{version}-{image_key(spec, pins, repo)}"


def build_sidecars(pins: Pins) -> dict[str, str]:
    """Build (or find) every sidecar image; component -> local reference."""
    refs: dict[str, str] = {}
    for spec in SIDECARS:
        ref = sidecar_ref(spec, pins)
        with step(f"image {ref}") as s:
            s.note = "built" if build_image(spec, pins, ref) else "cached"
        refs[spec.component] = ref
    return refs


SNAPSHOT_CLIENT = "github.com/kubernetes-csi/external-snapshotter/client/v8"


def snapshot_crds(pins: Pins) -> list[Path]:
    """The VolumeSnapshot CRDs (and the group snapshot ones the sidecars watch) of the pinned
    external-snapshotter, read from its client module in the Go module cache (never committed)."""
    go = GoRunner("snapshot-crds", pins.tools.go)
    info = go.module_info(SNAPSHOT_CLIENT, pins.get("components.external-snapshotter"))
    crds = sorted((Path(info["Dir"]) / "config" / "crd").glob("*snapshot*.yaml"))
    if not crds:
        raise FileNotFoundError(f"no snapshot CRDs in {info['Dir']}/config/crd")
    return crds
