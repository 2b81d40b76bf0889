"""STARTER (chapter 9.3): one TODO below, marked ``TODO(9.3)``. Everything else works.

What a claim's allocation asks of this node: the devices NodePrepareResources must prepare.

The kubelet sends only a claim's namespace, name and UID; the driver fetches the claim and reads
``status.allocation.devices.results``: one result per allocated device, naming the request it
satisfies, the driver, the pool and the device. A result of another driver is not ours; a result
of ours must be of this node's pool and name a device this node has. A claim whose UID differs
from the kubelet's was deleted and made again under the same name: preparing it would hand the
pod someone else's devices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubelab_kit.errors import KubelabError


class AllocationError(KubelabError):
    """The claim cannot be prepared on this node; the message says why (the kubelet shows it in the pod's events)."""

    area = "dra"


@dataclass(frozen=True)
class Allocated:
    """One device of this node allocated to a claim, with every request of the claim it satisfies."""

    requests: tuple[str, ...]
    pool: str
    device: str


def ours(claim: dict[str, Any], uid: str, driver: str, pool: str, devices: set[str]) -> list[Allocated]:
    """The devices of ``claim`` that ``driver`` prepares in ``pool`` (this node), in the allocation's order.

    Raises :class:`AllocationError` when the claim is not the one asked for (``uid``), has no
    allocation, or names a pool or device of this driver that this node does not have.
    """
    raise NotImplementedError("TODO(9.3): the devices of `claim`'s allocation that `driver` prepares in `pool`")
