"""VolumeCapability checks: which access modes and types a node-local volume supports.

A volume lives on one node, so every single-node mode is supported and no multi-node one.
Filesystem volumes are btrfs subvolumes: the only fs_type is btrfs (or none named).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubelab_kit.grpc import InvalidArgument
from kubelab_protos.gen.csi.v1 import csi_pb2

Mode = csi_pb2.VolumeCapability.AccessMode
SINGLE_NODE = frozenset(
    {
        Mode.SINGLE_NODE_WRITER,
        Mode.SINGLE_NODE_READER_ONLY,
        Mode.SINGLE_NODE_SINGLE_WRITER,
        Mode.SINGLE_NODE_MULTI_WRITER,
    }
)
FS_TYPES = frozenset({"", "btrfs"})


def problem(capability: Any) -> str | None:
    """Why this driver cannot serve ``capability``, or None when it can."""
    mode = capability.access_mode.mode
    if mode not in SINGLE_NODE:
        name = csi_pb2.VolumeCapability.AccessMode.Mode.Name(mode)
        return f"access mode {name} is not supported: a volume lives on one node"
    kind = capability.WhichOneof("access_type")
    if kind is None:
        return "the capability names neither block nor mount access"
    if kind == "mount" and capability.mount.fs_type not in FS_TYPES:
        return f"fs_type {capability.mount.fs_type!r} is not supported: volumes are btrfs subvolumes"
    return None


def is_block(capability: Any) -> bool:
    return bool(capability.WhichOneof("access_type") == "block")


def check(capabilities: Iterable[Any], call: str) -> bool:
    """INVALID_ARGUMENT unless every capability is supported and all ask the same access type; True for block."""
    caps = list(capabilities)
    if not caps:
        raise InvalidArgument(f"{call}: volume_capabilities is required")
    for cap in caps:
        why = problem(cap)
        if why:
            raise InvalidArgument(f"{call}: {why}")
    kinds = {is_block(cap) for cap in caps}
    if len(kinds) > 1:
        raise InvalidArgument(f"{call}: a volume is either raw block or a filesystem, not both")
    return kinds.pop()
