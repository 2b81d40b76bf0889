"""The ADD result document (spec section 5), built in 1.1.0 form and written in the caller's version."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from kubelab_cni.protocol import CniError, Code, version_tuple

_INTERFACE_KEYS_1_1 = ("mtu", "socketPath", "pciID")
_ROUTE_KEYS_1_1 = ("mtu", "advmss", "priority", "table", "scope")


@dataclass
class Interface:
    name: str
    mac: str = ""
    mtu: int | None = None
    sandbox: str = ""

    def document(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.mac:
            out["mac"] = self.mac
        if self.mtu:
            out["mtu"] = self.mtu
        if self.sandbox:
            out["sandbox"] = self.sandbox
        return out


@dataclass
class IPConfig:
    address: ipaddress.IPv4Interface | ipaddress.IPv6Interface
    gateway: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    interface: int | None = None

    def document(self) -> dict[str, Any]:
        out: dict[str, Any] = {"address": str(self.address)}
        if self.gateway is not None:
            out["gateway"] = str(self.gateway)
        if self.interface is not None:
            out["interface"] = self.interface
        return out


@dataclass
class Route:
    dst: ipaddress.IPv4Network | ipaddress.IPv6Network
    gw: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None

    def document(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dst": str(self.dst)}
        if self.gw is not None:
            out["gw"] = str(self.gw)
        return out


@dataclass
class Result:
    """A success result. ``extra`` keeps parts of a prevResult this plugin does not model."""

    interfaces: list[Interface] = field(default_factory=list)
    ips: list[IPConfig] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    dns: dict[str, Any] = field(default_factory=dict)
    prev_interfaces: list[dict[str, Any]] = field(default_factory=list)
    prev_ips: list[dict[str, Any]] = field(default_factory=list)
    prev_routes: list[dict[str, Any]] = field(default_factory=list)

    def document(self, cni_version: str) -> dict[str, Any]:
        """The result in ``cni_version`` form: prevResult entries first, then this plugin's."""
        offset = len(self.prev_interfaces)
        ips = [dict(ip) for ip in self.prev_ips]
        for ip in self.ips:
            entry = ip.document()
            if ip.interface is not None:
                entry["interface"] = ip.interface + offset
            ips.append(entry)
        out: dict[str, Any] = {
            "cniVersion": cni_version,
            "interfaces": [*self.prev_interfaces, *(i.document() for i in self.interfaces)],
            "ips": ips,
            "routes": [*self.prev_routes, *(r.document() for r in self.routes)],
        }
        if self.dns:
            out["dns"] = self.dns
        return convert(out, cni_version)


def convert(doc: dict[str, Any], cni_version: str) -> dict[str, Any]:
    """Rewrite a 1.x result for an older spec version (0.3.0 … 1.0.0)."""
    target = version_tuple(cni_version)
    out = dict(doc)
    out["cniVersion"] = cni_version
    if target < (1, 1, 0):
        out["interfaces"] = [{k: v for k, v in i.items() if k not in _INTERFACE_KEYS_1_1} for i in doc["interfaces"]]
        out["routes"] = [{k: v for k, v in r.items() if k not in _ROUTE_KEYS_1_1} for r in doc["routes"]]
    if target < (1, 0, 0):
        ips = []
        for ip in doc["ips"]:
            ip = dict(ip)
            ip["version"] = "6" if ":" in ip["address"] else "4"
            ips.append(ip)
        out["ips"] = ips
    return out


def parse_prev_result(doc: Any) -> Result:
    """Read a prevResult of any supported version, keeping its entries verbatim."""
    if doc is None:
        return Result()
    if not isinstance(doc, dict):
        raise CniError(Code.DECODING_FAILURE, "prevResult is not an object")
    try:
        interfaces = [dict(i) for i in doc.get("interfaces") or []]
        ips = [{k: v for k, v in dict(ip).items() if k != "version"} for ip in doc.get("ips") or []]
        routes = [dict(r) for r in doc.get("routes") or []]
    except (TypeError, ValueError) as exc:
        raise CniError(Code.DECODING_FAILURE, "cannot decode prevResult", str(exc)) from exc
    dns = doc.get("dns") or {}
    return Result(prev_interfaces=interfaces, prev_ips=ips, prev_routes=routes, dns=dict(dns))
