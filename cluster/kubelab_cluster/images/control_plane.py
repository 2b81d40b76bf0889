"""The images kubeadm runs, built from our binaries and tagged exactly as kubeadm asks.

``kubeadm config images list`` is the source of the names and tags, so they follow
the Kubernetes pin. Each image is one layer made with ``docker import``; static
binaries get a scratch root filesystem, kube-proxy gets the slim Debian one (it
needs iptables/nft and conntrack).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kubelab_cluster.cache import cache_root, content_key
from kubelab_cluster.images import docker
from kubelab_cluster.images.debian import build_rootfs
from kubelab_cluster.images.rootfs_specs import SLIM
from kubelab_cluster.images.scratch import write_scratch_rootfs
from kubelab_cluster.images.sources import binary, binary_key, kubeadm_images, pause_binary
from kubelab_cluster.pins import Pins
from kubelab_cluster.progress import step

SCHEMA = 1
KEY_LABEL = "dev.kubelab.key"


@dataclass(frozen=True)
class ImageSpec:
    component: str  # the name in kubeadm's list
    files: dict[str, tuple[str, str]]  # path in image -> (artifact, binary); artifact "pause" = our pause
    entrypoint: tuple[str, ...] = ()
    on_slim_debian: bool = False


SPECS = (
    ImageSpec("kube-apiserver", {"/usr/local/bin/kube-apiserver": ("kube-apiserver", "kube-apiserver")}),
    ImageSpec(
        "kube-controller-manager",
        {"/usr/local/bin/kube-controller-manager": ("kube-controller-manager", "kube-controller-manager")},
    ),
    ImageSpec("kube-scheduler", {"/usr/local/bin/kube-scheduler": ("kube-scheduler", "kube-scheduler")}),
    ImageSpec("kube-proxy", {"/usr/local/bin/kube-proxy": ("kube-proxy", "kube-proxy")}, on_slim_debian=True),
    ImageSpec("etcd", {"/usr/local/bin/etcd": ("etcd", "etcd"), "/usr/local/bin/etcdctl": ("etcd", "etcdctl")}),
    ImageSpec("coredns", {"/coredns": ("coredns", "coredns")}, entrypoint=("/coredns",)),
    ImageSpec("pause", {"/pause": ("pause", "pause")}, entrypoint=("/pause",)),
)


# kube-apiserver with the API server lab's admission plugin compiled in (Chapter 7.3), for the lab to swap in.
PATCHED_APISERVER = ImageSpec(
    "kube-apiserver", {"/usr/local/bin/kube-apiserver": ("kube-apiserver-kubelab", "kube-apiserver")}
)
PATCHED_APISERVER_REPO = "kubelab/kube-apiserver"


def build_patched_apiserver(pins: Pins) -> str:
    """The patched kube-apiserver's image (built once per binary); returns its local reference."""
    from kubelab_cluster.toolchain.artifacts import BY_NAME
    from kubelab_cluster.toolchain.build import version_of

    ref = f"{PATCHED_APISERVER_REPO}:{version_of(BY_NAME['kube-apiserver-kubelab'], pins)}"
    with step(f"image {ref}") as s:
        s.note = "built" if build_image(PATCHED_APISERVER, pins, ref) else "cached"
    return ref


def _source(pins: Pins, artifact: str, name: str) -> Path:
    return pause_binary() if artifact == "pause" else binary(pins, artifact, name)


def _source_key(pins: Pins, artifact: str) -> str:
    return pause_binary().parent.name if artifact == "pause" else binary_key(pins, artifact)


def image_key(spec: ImageSpec, pins: Pins, ref: str) -> str:
    return content_key(
        SCHEMA,
        ref,
        {path: (a, b, _source_key(pins, a)) for path, (a, b) in spec.files.items()},
        spec.entrypoint,
        SLIM.key if spec.on_slim_debian else None,
    )


def _changes(spec: ImageSpec, key: str) -> list[str]:
    changes = [
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        f"LABEL {KEY_LABEL}={key}",
    ]
    if spec.entrypoint:
        changes.append("ENTRYPOINT " + "[" + ", ".join(f'"{e}"' for e in spec.entrypoint) + "]")
    return changes


def build_image(spec: ImageSpec, pins: Pins, ref: str) -> bool:
    """Build one image unless an image with the same key already carries ``ref``. True if built."""
    key = image_key(spec, pins, ref)
    if docker.image_exists(ref) and docker.image_labels(ref).get(KEY_LABEL) == key:
        return False
    with tempfile.TemporaryDirectory(prefix="kubelab-image-") as tmp:
        if spec.on_slim_debian:
            base = f"kubelab/slim-rootfs:{SLIM.key}"
            if not docker.image_exists(base):
                docker.import_tar(base, build_rootfs(SLIM))
            context = Path(tmp)
            lines = [f"FROM {base}"]
            for i, (target, (artifact, name)) in enumerate(sorted(spec.files.items())):
                shutil.copy2(_source(pins, artifact, name), context / f"f{i}")  # keeps the mode
                lines.append(f"COPY f{i} {target}")
            lines.append(f"LABEL {KEY_LABEL}={key}")
            (context / "Dockerfile").write_text("\n".join(lines) + "\n")
            docker.build(ref, context)
        else:
            tar = Path(tmp) / "rootfs.tar"
            files = {target: _source(pins, a, b) for target, (a, b) in spec.files.items()}
            write_scratch_rootfs(tar, files)
            docker.import_tar(ref, tar, _changes(spec, key))
    return True


def build_control_plane(pins: Pins) -> dict[str, str]:
    """Build every image kubeadm asks for; returns component -> reference."""
    refs = kubeadm_images(pins)
    missing = {s.component for s in SPECS} ^ set(refs)
    if missing:
        raise RuntimeError(f"kubeadm's image list and ours differ: {sorted(missing)}")
    for spec in SPECS:
        ref = refs[spec.component]
        with step(f"image {ref}") as s:
            s.note = "built" if build_image(spec, pins, ref) else "cached"
    return refs


def bundle(pins: Pins) -> Path:
    """All control-plane images in one ``docker save`` archive (for preloading into nodes)."""
    refs = build_control_plane(pins)
    key = content_key(SCHEMA, {c: image_key(s, pins, refs[c]) for s in SPECS for c in [s.component]})
    out = cache_root() / "images" / f"control-plane-{pins.kubernetes.version}-{key}.tar"
    if not out.is_file():
        with step("save control-plane images") as s:
            partial = out.with_suffix(".partial")
            docker.save(sorted(refs.values()), partial)
            partial.rename(out)
            s.note = f"{out.stat().st_size / 2**20:.0f} MiB"
    return out
