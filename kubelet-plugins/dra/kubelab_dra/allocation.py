"""What a claim's allocation asks of this node: the devices NodePrepareResources must prepare.

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
    # >>> solution 9.3
    meta = claim.get("metadata") or {}
    where = f"ResourceClaim {meta.get('namespace')}/{meta.get('name')}"
    if meta.get("uid") != uid:
        raise AllocationError(
            f"{where} has UID {meta.get('uid')}, the kubelet asked for {uid}: it was deleted and made again"
        )
    results = (((claim.get("status") or {}).get("allocation") or {}).get("devices") or {}).get("results")
    if not results:
        raise AllocationError(f"{where} is not allocated (no status.allocation.devices.results)")
    found: dict[str, list[str]] = {}
    for result in results:
        if result.get("driver") != driver:
            continue
        if result.get("pool") != pool:
            raise AllocationError(f"{where}: device {result.get('device')} is of pool {result.get('pool')}, not {pool}")
        if result.get("device") not in devices:
            raise AllocationError(
                f"{where}: no device {result.get('device')} on {pool} (it has {', '.join(sorted(devices)) or 'none'})"
            )
        found.setdefault(str(result["device"]), []).append(str(result.get("request", "")))
    if not found:
        raise AllocationError(f"{where} has no device of {driver}")
    return [Allocated(tuple(requests), pool, device) for device, requests in found.items()]
    # === starter
    # raise NotImplementedError("TODO(9.3): the devices of `claim`'s allocation that `driver` prepares in `pool`")
    # <<< solution
