"""The kind node image, built without any registry.

1. A Debian bookworm root filesystem with systemd (debootstrap), imported as a base.
2. ``docker build`` adds our node files (cluster/images/node/files: entrypoint,
   systemd units, containerd config), the toolchain's containerd, runc, crictl, CNI
   plugins, kubelet, kubeadm and kubectl, and the layout kind expects (/kind/version).
3. The control-plane images are preloaded: the image runs once with containerd alone,
   ``ctr -n k8s.io images import`` (not unpacked, pinned, as kind does), then
   ``docker commit`` restores the entrypoint.

The tag is ``kubelab/node:<kubernetes version>-<key>``, where the key hashes every input.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from kubelab_cluster.cache import content_key
from kubelab_cluster.images import docker
from kubelab_cluster.images.control_plane import bundle
from kubelab_cluster.images.debian import build_rootfs
from kubelab_cluster.images.errors import ImageError
from kubelab_cluster.images.rootfs_specs import NODE
from kubelab_cluster.images.sources import binary, binary_key, images_dir, kubeadm_images, tree_hash
from kubelab_cluster.pins import Pins
from kubelab_cluster.progress import step
from kubelab_cluster.toolchain.artifacts import BY_NAME

SCHEMA = 1
REPO = "kubelab/node"
USR_LOCAL = {"containerd": ("containerd", "containerd-shim-runc-v2", "ctr"), "runc": ("runc",), "crictl": ("crictl",)}
USR_BIN = ("kubelet", "kubeadm", "kubectl")
ENTRYPOINT = '["/usr/local/bin/entrypoint", "/sbin/init"]'

DOCKERFILE = """\
FROM {base}
COPY files/ /
COPY bin/ /usr/local/bin/
COPY kube/ /usr/bin/
COPY cni/ /opt/cni/bin/
RUN set -eu; \\
    rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \\
          /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \\
          /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/* \\
          /lib/systemd/system/sysinit.target.wants/systemd-tmpfiles-setup.service; \\
    echo ReadKMsg=no >> /etc/systemd/journald.conf; \\
    systemctl enable containerd.service kubelet.service; \\
    systemctl mask systemd-binfmt.service systemd-udevd.service getty.target console-getty.service; \\
    mkdir -p /etc/kubernetes/manifests /etc/cni/net.d /var/lib/kubelet /etc/containerd/certs.d; \\
    echo '{version}' > /kind/version; \\
    update-alternatives --set iptables /usr/sbin/iptables-nft; \\
    update-alternatives --set ip6tables /usr/sbin/ip6tables-nft
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT {entrypoint}
"""

PRELOAD = """\
set -eu
containerd >/tmp/containerd.log 2>&1 &
pid=$!
for _ in $(seq 100); do [ -S /run/containerd/containerd.sock ] && break; sleep 0.1; done
ctr -n k8s.io images import --all-platforms --no-unpack --digests \\
    --label=io.cri-containerd.pinned=pinned /preload/control-plane.tar >/dev/null
ctr -n k8s.io images ls -q
kill "$pid"; wait "$pid" || true
rm -rf /run/containerd /tmp/containerd.log
"""


def node_key(pins: Pins, bundle_path: Path) -> str:
    arts = ["containerd", "runc", "crictl", "cni-plugins", *USR_BIN]
    return content_key(
        SCHEMA,
        NODE.key,
        tree_hash(images_dir() / "node" / "files"),
        {a: binary_key(pins, a) for a in arts},
        bundle_path.name,
        DOCKERFILE,
        PRELOAD,
    )


def node_ref(pins: Pins, key: str) -> str:
    return f"{REPO}:{pins.kubernetes.version}-{key}"


def _context(root: Path, pins: Pins, pause_ref: str) -> None:
    shutil.copytree(images_dir() / "node" / "files", root / "files", symlinks=True)
    cfg = root / "files" / "etc" / "containerd" / "config.toml"
    cfg.write_text(cfg.read_text().replace("@PAUSE_IMAGE@", pause_ref))
    for sub in ("bin", "kube", "cni"):
        (root / sub).mkdir()
    for artifact, names in USR_LOCAL.items():
        for name in names:
            shutil.copy2(binary(pins, artifact, name), root / "bin" / name)
    for name in USR_BIN:
        shutil.copy2(binary(pins, name), root / "kube" / name)
    for name in BY_NAME["cni-plugins"].binaries:
        shutil.copy2(binary(pins, "cni-plugins", name), root / "cni" / name)


def build_node_image(pins: Pins) -> str:
    """Build (or find) the node image for the current pins; returns its reference."""
    archive = bundle(pins)
    key = node_key(pins, archive)
    ref = node_ref(pins, key)
    if docker.image_exists(ref):
        return ref
    base = f"kubelab/node-rootfs:{NODE.key}"
    if not docker.image_exists(base):
        with step(f"debootstrap node root filesystem ({NODE.suite})"):
            tar = build_rootfs(NODE)
        with step(f"import {base}"):
            docker.import_tar(base, tar)
    stage = f"kubelab/node-stage:{key}"
    with step("docker build node image"), tempfile.TemporaryDirectory(prefix="kubelab-node-") as tmp:
        root = Path(tmp)
        _context(root, pins, kubeadm_images(pins)["pause"])
        (root / "Dockerfile").write_text(
            DOCKERFILE.format(base=base, version=pins.kubernetes.version, entrypoint=ENTRYPOINT)
        )
        docker.build(stage, root)
    name = f"kubelab-preload-{key}"
    with step("preload control-plane images into containerd") as s:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
        try:
            out = docker.docker(
                ref,
                "run",
                "--name",
                name,
                "--privileged",
                "--entrypoint",
                "/bin/sh",
                "-v",
                f"{archive}:/preload/control-plane.tar:ro",
                stage,
                "-c",
                PRELOAD,
            )
            s.note = f"{len(out.split())} images"
            docker.docker(
                ref,
                "commit",
                "--change",
                f"ENTRYPOINT {ENTRYPOINT}",
                "--change",
                "CMD []",
                "--change",
                f"LABEL dev.kubelab.key={key}",
                name,
                ref,
            )
        finally:
            subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
            subprocess.run(["docker", "rmi", stage], capture_output=True, check=False)
    entrypoint = json.loads(docker.docker(ref, "image", "inspect", "--format", "{{json .Config.Entrypoint}}", ref))
    if entrypoint != json.loads(ENTRYPOINT):
        raise ImageError(ref, f"unexpected entrypoint {entrypoint}", "report this: the commit step lost it")
    docker.prune_repo(REPO, keep=ref)  # older node images (1.2 GB each) that no node runs
    return ref
