"""What ADD, CHECK and DEL derive from one configuration: addresses per range set, routes."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from kubelab_cni.config import NetConf
from kubelab_cni.ipam.allocator import Allocation
from kubelab_cni.result import IPConfig, Route

DEFAULT_ROUTE = {4: ipaddress.ip_network("0.0.0.0/0"), 6: ipaddress.ip_network("::/0")}


@dataclass(frozen=True)
class AddressPlan:
    ips: list[IPConfig]
    routes: list[Route]  # as reported in the result
    installed: list[Route]  # as installed in the container (gateway filled in)


def plan_addresses(conf: NetConf, allocations: list[Allocation], interface: int) -> AddressPlan:
    ips: list[IPConfig] = []
    routes: list[Route] = []
    installed: list[Route] = []
    gateways: dict[int, ipaddress.IPv4Address | ipaddress.IPv6Address] = {}
    for a in allocations:
        address = ipaddress.ip_interface(f"{a.reservation.address}/{a.range.subnet.prefixlen}")
        ips.append(IPConfig(address=address, gateway=a.range.gateway, interface=interface))
        gateways.setdefault(address.version, a.range.gateway)
    if conf.is_default_gateway:
        for version, gw in gateways.items():
            route = Route(DEFAULT_ROUTE[version], gw)
            routes.append(route)
            installed.append(route)
    for r in conf.ipam.routes if conf.ipam else []:
        if r.dst.version not in gateways:
            continue
        if conf.is_default_gateway and r.dst.prefixlen == 0:
            continue  # already there, via the gateway
        routes.append(Route(r.dst, r.gw))
        installed.append(Route(r.dst, r.gw or gateways[r.dst.version]))
    return AddressPlan(ips, routes, installed)
