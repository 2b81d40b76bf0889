"""The Debian package sets our images are made of."""

from __future__ import annotations

from kubelab_cluster.images.debian import Rootfs

# The kind node: systemd as PID 1, the tools kubelet/kubeadm/CNI/CSI call, python3 for
# node-side Python components (CNI plugin, credential provider, CRI runtime).
NODE = Rootfs(
    "node",
    (
        "systemd",
        "systemd-sysv",
        "dbus",
        "iptables",
        "nftables",
        "iproute2",
        "conntrack",
        "ebtables",
        "ethtool",
        "socat",
        "util-linux",
        "mount",
        "kmod",
        "e2fsprogs",
        "btrfs-progs",
        "libseccomp2",
        "ca-certificates",
        "procps",
        "bash",
        "jq",
        "less",
        "iputils-ping",
        "python3",
        "python3-venv",
    ),
)

# Slim base for kube-proxy (iptables/nft, conntrack) and the lab image (python3; btrfs-progs for
# the CSI driver's pools, beside util-linux's mount and losetup, which every Debian base has).
SLIM = Rootfs(
    "slim",
    (
        "python3",
        "python3-venv",
        "iproute2",
        "iptables",
        "nftables",
        "conntrack",
        "ca-certificates",
        "procps",
        "btrfs-progs",
    ),
)
