"""Ranges and range sets with host-local's defaults and checks.

A range is a subnet with an optional ``rangeStart``/``rangeEnd`` and ``gateway``. Defaults:
start = network + 1, end = broadcast - 1 (IPv4) or the last address (IPv6), gateway =
network + 1. The gateway is never handed out. A range set is one or more ranges of one
family; an attachment gets one address per range set.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from kubelab_cni.config import IPAddress, IPNetwork, RangeConf
from kubelab_cni.protocol import CniError, Code


def _invalid(detail: str) -> CniError:
    return CniError(Code.INVALID_CONFIG, "invalid IPAM range", detail)


@dataclass(frozen=True)
class Range:
    subnet: IPNetwork
    start: IPAddress
    end: IPAddress
    gateway: IPAddress

    @classmethod
    def from_conf(cls, conf: RangeConf) -> Range:
        net = conf.subnet
        if net.max_prefixlen - net.prefixlen < 2:
            raise _invalid(f"network {net} too small to allocate from")
        first = net.network_address + 1
        last = net.broadcast_address - 1 if net.version == 4 else net.broadcast_address
        start = conf.range_start or first
        end = conf.range_end or last
        for label, addr in (("rangeStart", start), ("rangeEnd", end), ("gateway", conf.gateway)):
            if addr is not None and (addr.version != net.version or addr not in net):
                raise _invalid(f"{label} {addr} is not in subnet {net}")
        if not first <= start <= end <= last:  # type: ignore[operator]
            raise _invalid(f"range {start}-{end} is empty or outside the usable part of {net}")
        return cls(subnet=net, start=start, end=end, gateway=conf.gateway or first)

    def __contains__(self, addr: object) -> bool:
        return isinstance(addr, ipaddress.IPv4Address | ipaddress.IPv6Address) and (
            addr.version == self.start.version and self.start <= addr <= self.end  # type: ignore[operator]
        )

    def overlaps(self, other: Range) -> bool:
        return self.subnet.version == other.subnet.version and not (
            self.end < other.start or other.end < self.start  # type: ignore[operator]
        )

    def size(self) -> int:
        return int(self.end) - int(self.start) + 1

    def addresses_after(self, last: IPAddress | None) -> Iterator[IPAddress]:
        """Every address of the range once, starting after ``last`` (or at the start) and wrapping."""
        begin = int(self.start)
        if last is not None and last in self:
            begin = int(last) + 1
        span = self.size()
        lo = int(self.start)
        factory = ipaddress.IPv4Address if self.subnet.version == 4 else ipaddress.IPv6Address
        for i in range(span):
            yield factory(lo + (begin - lo + i) % span)


@dataclass(frozen=True)
class RangeSet:
    ranges: tuple[Range, ...]

    @property
    def version(self) -> int:
        return self.ranges[0].subnet.version

    def range_for(self, addr: IPAddress) -> Range | None:
        return next((r for r in self.ranges if addr in r), None)

    def iterate_after(self, last: IPAddress | None) -> Iterator[tuple[Range, IPAddress]]:
        """All candidate addresses, beginning after ``last`` in its range, then the other ranges, wrapping."""
        order = list(self.ranges)
        first = next((i for i, r in enumerate(order) if last is not None and last in r), None)
        if first is not None:
            order = order[first:] + order[:first]
            head, *rest = order
            yield from ((head, a) for a in head.addresses_after(last))
            order = rest
        for r in order:
            yield from ((r, a) for a in r.addresses_after(None))


def build_range_sets(confs: Sequence[Sequence[RangeConf]]) -> list[RangeSet]:
    if not confs:
        raise _invalid("ipam.ranges is empty (and no ipam.subnet given)")
    sets: list[RangeSet] = []
    for i, group in enumerate(confs):
        if not group:
            raise _invalid(f"range set {i} is empty")
        ranges = tuple(Range.from_conf(c) for c in group)
        if len({r.subnet.version for r in ranges}) != 1:
            raise _invalid(f"range set {i} mixes IPv4 and IPv6")
        sets.append(RangeSet(ranges))
    every = [r for s in sets for r in s.ranges]
    for a_i, a in enumerate(every):
        for b in every[a_i + 1 :]:
            if a.overlaps(b):
                raise _invalid(f"ranges {a.start}-{a.end} and {b.start}-{b.end} overlap")
    return sets
