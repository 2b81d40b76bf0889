"""The network configuration this plugin reads from stdin, as pydantic models.

Decoding failures are code 6, schema violations code 7, an unknown ``cniVersion`` code 1,
and a known field this plugin does not implement code 2 (the message names key and value).
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kubelab_cni.protocol import CniError, Code, check_version

DEFAULT_DATA_DIR = "/var/lib/cni/networks"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Fields of the reference bridge plugin that this plugin does not implement: refused with code 2
# when set to anything but their neutral value.
_UNSUPPORTED_BRIDGE_FIELDS: dict[str, object] = {
    "vlan": 0,
    "vlanTrunk": None,
    "preserveDefaultVlan": None,
    "macspoofchk": False,
    "enabledad": False,
    "disableContainerInterface": False,
    "portIsolation": False,
}


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow", frozen=True)


class RangeConf(_Model):
    """One range of a host-local range set."""

    subnet: IPNetwork
    range_start: IPAddress | None = Field(default=None, alias="rangeStart")
    range_end: IPAddress | None = Field(default=None, alias="rangeEnd")
    gateway: IPAddress | None = None

    @field_validator("subnet", mode="before")
    @classmethod
    def _subnet(cls, value: Any) -> IPNetwork:
        if not isinstance(value, str):
            raise ValueError("subnet must be a CIDR string")
        return ipaddress.ip_network(value, strict=False)


class RouteConf(_Model):
    dst: IPNetwork
    gw: IPAddress | None = None


class IPAMConf(_Model):
    """host-local semantics; ``subnet``/``rangeStart``/``rangeEnd``/``gateway`` is the one-range shorthand."""

    type: str
    ranges: list[list[RangeConf]] = Field(default_factory=list)
    subnet: str | None = None
    range_start: str | None = Field(default=None, alias="rangeStart")
    range_end: str | None = Field(default=None, alias="rangeEnd")
    gateway: str | None = None
    routes: list[RouteConf] = Field(default_factory=list)
    data_dir: str = Field(default=DEFAULT_DATA_DIR, alias="dataDir")

    @model_validator(mode="after")
    def _shorthand(self) -> IPAMConf:
        if self.subnet is None:
            return self
        single = RangeConf.model_validate(
            {"subnet": self.subnet, "rangeStart": self.range_start, "rangeEnd": self.range_end, "gateway": self.gateway}
        )
        object.__setattr__(self, "ranges", [[single], *self.ranges])
        return self


class Attachment(_Model):
    container_id: str = Field(alias="containerID")
    ifname: str


class DNSConf(_Model):
    nameservers: list[str] = Field(default_factory=list)
    domain: str = ""
    search: list[str] = Field(default_factory=list)
    options: list[str] = Field(default_factory=list)


class NetConf(_Model):
    """The bridge plugin's configuration (one entry of a configuration list, as the runtime derives it)."""

    cni_version: str = Field(default="0.1.0", alias="cniVersion")
    name: str = Field(pattern=NAME_PATTERN, max_length=128)
    type: str
    bridge: str = Field(default="cni0", min_length=1, max_length=15, pattern=r"^[^/\s:]+$")
    is_gateway: bool = Field(default=False, alias="isGateway")
    is_default_gateway: bool = Field(default=False, alias="isDefaultGateway")
    force_address: bool = Field(default=False, alias="forceAddress")
    ip_masq: bool = Field(default=False, alias="ipMasq")
    ip_masq_backend: Literal["nftables", "iptables"] | None = Field(default=None, alias="ipMasqBackend")
    mtu: int | None = Field(default=None, ge=68, le=65535)
    hairpin_mode: bool = Field(default=False, alias="hairpinMode")
    promisc_mode: bool = Field(default=False, alias="promiscMode")
    ipam: IPAMConf | None = None
    dns: DNSConf = Field(default_factory=DNSConf)
    prev_result: dict[str, Any] | None = Field(default=None, alias="prevResult")
    valid_attachments: list[Attachment] | None = Field(default=None, alias="cni.dev/valid-attachments")

    @property
    def gateway_mode(self) -> bool:
        return self.is_gateway or self.is_default_gateway


def _first_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def decode(stdin: bytes) -> dict[str, Any]:
    """JSON object from stdin, or code 6."""
    try:
        doc = json.loads(stdin)
    except (UnicodeDecodeError, ValueError) as exc:
        raise CniError(Code.DECODING_FAILURE, "failed to decode network configuration", str(exc)) from exc
    if not isinstance(doc, dict):
        raise CniError(Code.DECODING_FAILURE, "network configuration is not a JSON object")
    return doc


def load(stdin: bytes) -> NetConf:
    """Parse and validate a plugin configuration for ADD/DEL/CHECK/STATUS/GC."""
    doc = decode(stdin)
    version = doc.get("cniVersion", "0.1.0")
    if not isinstance(version, str):
        raise CniError(Code.DECODING_FAILURE, "cniVersion must be a string")
    check_version(version)
    for key, neutral in _UNSUPPORTED_BRIDGE_FIELDS.items():
        if key in doc and doc[key] not in (neutral, None, [], {}):
            raise CniError(Code.UNSUPPORTED_FIELD, f"unsupported field {key}={json.dumps(doc[key])}")
    if doc.get("ipMasqBackend") == "iptables":
        raise CniError(
            Code.UNSUPPORTED_FIELD,
            'unsupported field ipMasqBackend="iptables"',
            "masquerading is done with nf_tables over netlink; use ipMasqBackend nftables or leave it out",
        )
    try:
        conf = NetConf.model_validate(doc)
    except ValidationError as exc:
        raise CniError(Code.INVALID_CONFIG, "invalid network configuration", _first_error(exc)) from exc
    if conf.ipam is not None and conf.ipam.type not in ("host-local", "kubelab-host-local"):
        raise CniError(
            Code.UNSUPPORTED_FIELD,
            f'unsupported field ipam.type="{conf.ipam.type}"',
            "only the built-in host-local IPAM is implemented",
        )
    return conf
