"""Preparing and unpreparing claims on this node: a CDI spec per claim and the checkpoint.

Prepare: fetch the claim, work out its devices on this node (:func:`kubelab_dra.allocation.ours`),
write one CDI spec file for the claim (``/var/run/cdi/dra.kubelab.dev-accelerator-<uid>.json``,
one CDI device per allocated device, named ``<uid>-<device>``: environment ``KUBELAB_DRA_<DEVICE>``
describing it and a device node ``/dev/kubelab-dra/<device>``), then record the claim in the
checkpoint. A claim already in the checkpoint is answered from it (the kubelet retries, and asks
again after a restart). Unprepare: remove the CDI spec, then the checkpoint entry; an unknown
claim is already unprepared. In that order a crash leaves at most a CDI spec without an entry,
which :meth:`Preparer.collect` removes when the driver starts.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kubelab_dra import CDI_KIND, DRIVER
from kubelab_dra.allocation import ours
from kubelab_dra.checkpoint import Checkpoint, PreparedClaim, PreparedDevice
from kubelab_dra.devices import Device
from kubelab_kit import cdi

log = logging.getLogger(__name__)


def env_name(device: str) -> str:
    return "KUBELAB_DRA_" + device.upper().replace("-", "_")


def device_path(device: str) -> str:
    return f"/dev/kubelab-dra/{device}"


class Preparer:
    def __init__(self, node: str, devices: tuple[Device, ...], checkpoint: Checkpoint, cdi_dir: Path) -> None:
        self.node, self.checkpoint, self.cdi_dir = node, checkpoint, cdi_dir
        self.devices = {d.name: d for d in devices}

    def prepare(self, claim: dict[str, Any], uid: str) -> PreparedClaim:
        """Prepare ``claim`` (the object as fetched) for the kubelet's ``uid``; idempotent."""
        done = self.checkpoint.get(uid)
        if done is not None:
            return done
        allocated = ours(claim, uid, DRIVER, self.node, set(self.devices))
        meta = claim["metadata"]
        entries, prepared = [], []
        for a in allocated:
            d = self.devices[a.device]
            claim_name = f"{meta['namespace']}/{meta['name']}"
            value = f"{self.node}/{d.name} model={d.model} link={d.link} memory={d.memory} claim={claim_name}"
            entries.append(cdi.CdiDevice(f"{uid}-{d.name}", {env_name(d.name): value}, (device_path(d.name),)))
            prepared.append(
                PreparedDevice(",".join(a.requests), a.pool, a.device, [cdi.qualified(CDI_KIND, f"{uid}-{d.name}")])
            )
        cdi.write(self.cdi_dir, CDI_KIND, entries, suffix=uid)
        record = PreparedClaim(str(meta["namespace"]), str(meta["name"]), prepared)
        self.checkpoint.add(uid, record)
        log.info("prepared ResourceClaim %s/%s (%s): %s", record.namespace, record.name, uid,
                 ", ".join(d.device for d in prepared))  # fmt: skip
        return record

    def unprepare(self, uid: str) -> bool:
        """Undo :meth:`prepare`; True if the claim was prepared here."""
        had_spec = cdi.remove(self.cdi_dir, CDI_KIND, suffix=uid)
        gone = self.checkpoint.remove(uid)
        if gone is not None or had_spec:
            log.info("unprepared ResourceClaim %s (%s)", f"{gone.namespace}/{gone.name}" if gone else "?", uid)
        return gone is not None

    def collect(self) -> list[str]:
        """Remove the CDI specs of claims the checkpoint does not hold (a crash mid-prepare); their UIDs."""
        stray = [uid for uid in cdi.suffixes(self.cdi_dir, CDI_KIND) if self.checkpoint.get(uid) is None]
        for uid in stray:
            cdi.remove(self.cdi_dir, CDI_KIND, suffix=uid)
            log.info("removed the CDI spec of claim %s: not in the checkpoint", uid)
        return stray
