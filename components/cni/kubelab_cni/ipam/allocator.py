"""Allocate and release addresses: one per range set, host-local's round-robin order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kubelab_cni.config import IPAMConf
from kubelab_cni.ipam.ranges import Range, RangeSet, build_range_sets
from kubelab_cni.ipam.store import Reservation, Store
from kubelab_cni.protocol import CniError, Code


@dataclass(frozen=True)
class Allocation:
    range: Range
    reservation: Reservation


class Allocator:
    def __init__(self, conf: IPAMConf, network: str) -> None:
        self.range_sets: list[RangeSet] = build_range_sets(conf.ranges)
        self.store = Store(conf.data_dir, network)

    def allocate(self, container_id: str, ifname: str) -> list[Allocation]:
        """Reserve one address in each range set; all or nothing.

        An attachment that already holds an address in a range set keeps it (a retried ADD
        after a crash gets the same address back instead of leaking a second one).
        """
        out: list[Allocation] = []
        with self.store.locked() as store:
            existing = store.by_attachment(container_id, ifname)
            fresh: list[Reservation] = []
            try:
                for index, range_set in enumerate(self.range_sets):
                    held = next((r for r in existing if range_set.range_for(r.address)), None)
                    if held is not None:
                        out.append(Allocation(range_set.range_for(held.address), held))  # type: ignore[arg-type]
                        continue
                    allocation = self._reserve_one(store, index, range_set, container_id, ifname)
                    fresh.append(allocation.reservation)
                    out.append(allocation)
            except BaseException:
                for r in fresh:
                    store.release(r.address)
                raise
        return out

    @staticmethod
    def _reserve_one(store: Store, index: int, range_set: RangeSet, container_id: str, ifname: str) -> Allocation:
        taken = {r.address for r in store.reservations()}
        gateways = {r.gateway for r in range_set.ranges}
        for rng, address in range_set.iterate_after(store.last_reserved(index)):
            if address in taken or address in gateways:
                continue
            if store.reserve(address, container_id, ifname):
                store.set_last_reserved(index, address)
                return Allocation(rng, Reservation(address, container_id, ifname))
        spans = ", ".join(f"{r.start}-{r.end}" for r in range_set.ranges)
        raise CniError(Code.RANGE_EXHAUSTED, "no free IP address", f"range set {index} ({spans}) is exhausted")

    def release(self, container_id: str, ifname: str) -> list[Reservation]:
        with self.store.locked() as store:
            return store.release_attachment(container_id, ifname)

    def garbage_collect(self, valid: Iterable[tuple[str, str]]) -> list[Reservation]:
        """Release every reservation whose (containerID, ifname) is not in ``valid``."""
        keep = set(valid)
        with self.store.locked() as store:
            stale = [r for r in store.reservations() if (r.container_id, r.ifname) not in keep]
            for r in stale:
                store.release(r.address)
            store.remove_stale_temp_files()
        return stale

    def free_count(self) -> list[int]:
        """Free addresses per range set (for STATUS)."""
        with self.store.locked() as store:
            taken = {r.address for r in store.reservations()}
        counts = []
        for range_set in self.range_sets:
            total = 0
            for rng in range_set.ranges:
                used = sum(1 for a in taken if a in rng) + (1 if rng.gateway in rng else 0)
                total += rng.size() - used
            counts.append(total)
        return counts
