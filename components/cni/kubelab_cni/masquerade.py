"""ipMasq: source-NAT traffic that leaves the pod subnet, with nf_tables over netlink.

Neither ``iptables`` nor ``nft`` is installed on the hosts this was built on (checked on the
node and inside a fresh netns), while the kernel has nf_tables built in; so the rules are
written straight over netlink (pyroute2), which needs no binary at all. Layout, per address
family (``ip``/``ip6`` table ``kubelab_cni``, base chain ``postrouting``, type nat, hook
postrouting, priority 100 = srcnat), one rule per pod address::

    ip saddr <pod ip> ip daddr != <pod subnet> ip daddr != 224.0.0.0/4 masquerade
        comment "kubelab-cni net=<network> id=<containerID> if=<ifname>"

The comment (nft's own userdata TLV, so ``nft list ruleset`` shows it) is how DEL and GC find
exactly the rules of one attachment.
"""

from __future__ import annotations

import errno
import fcntl
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]
from pyroute2.nftables.expressions import genex  # type: ignore[import-untyped]
from pyroute2.nftables.main import NFTables  # type: ignore[import-untyped]

from kubelab_cni.paths import run_dir

TABLE = "kubelab_cni"
CHAIN = "postrouting"
NFPROTO = {4: 2, 6: 10}  # NFPROTO_IPV4, NFPROTO_IPV6
_ADDR = {4: (12, 16, 4), 6: (8, 24, 16)}  # saddr offset, daddr offset, length in the network header
_MULTICAST = {4: ipaddress.ip_network("224.0.0.0/4"), 6: ipaddress.ip_network("ff00::/8")}
_CMP_EQ, _CMP_NEQ = 0, 1
_NF_ACCEPT = 1


@dataclass(frozen=True)
class Tag:
    network: str
    container_id: str
    ifname: str

    def comment(self) -> str:
        return f"kubelab-cni net={self.network} id={self.container_id} if={self.ifname}"

    @classmethod
    def parse(cls, comment: str) -> Tag | None:
        parts = comment.split(" ")
        if len(parts) != 4 or parts[0] != "kubelab-cni":
            return None
        fields = dict(p.partition("=")[::2] for p in parts[1:])
        try:
            return cls(fields["net"], fields["id"], fields["if"])
        except KeyError:
            return None


def _comment_text(value: Any) -> str:
    """pyroute2 reads and writes NFTA_RULE_USERDATA as ``[0x00, len, text, NUL]``: exactly nft's
    comment TLV (type 0) for comments under 256 bytes, so plain strings go both ways."""
    return value if isinstance(value, str) else ""


def _expr(name: str, data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = genex(name, data)
    return out


def _payload(offset: int, length: int) -> dict[str, Any]:
    return _expr("payload", {"dreg": 1, "base": 1, "offset": offset, "len": length})


def _cmp(op: int, data: bytes) -> dict[str, Any]:
    return _expr("cmp", {"sreg": 1, "op": op, "data": {"attrs": [("NFTA_DATA_VALUE", data)]}})


def _masked(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> dict[str, Any]:
    length = len(network.netmask.packed)
    return _expr(
        "bitwise",
        {
            "sreg": 1,
            "dreg": 1,
            "len": length,
            "mask": {"attrs": [("NFTA_DATA_VALUE", network.netmask.packed)]},
            "xor": {"attrs": [("NFTA_DATA_VALUE", b"\0" * length)]},
        },
    )


def _rule_expressions(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
    subnet: ipaddress.IPv4Network | ipaddress.IPv6Network,
) -> list[dict[str, Any]]:
    src, dst, length = _ADDR[address.version]
    multicast = _MULTICAST[address.version]
    return [
        _payload(src, length),
        _cmp(_CMP_EQ, address.packed),
        _payload(dst, length),
        _masked(subnet),
        _cmp(_CMP_NEQ, subnet.network_address.packed),
        _payload(dst, length),
        _masked(multicast),
        _cmp(_CMP_NEQ, multicast.network_address.packed),
        genex("masq", {}),
    ]


def _nft_lock() -> int:
    """An exclusive flock on ``<run dir>/locks/.nftables`` (daemon threads and fallback processes alike)."""
    directory = os.path.join(run_dir(), "locks")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd = os.open(os.path.join(directory, ".nftables"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


class Masquerade:
    """The ``kubelab_cni`` tables of the calling thread's namespace."""

    def __init__(self, version: int) -> None:
        self.version = version
        # One writer at a time on the node: a rule dump that overlaps another call's change is
        # cut short by the kernel (NLM_F_DUMP_INTR), and a DEL would then miss its rule.
        self._lock = _nft_lock()
        self.nft = NFTables(nfgen_family=NFPROTO[version])

    def close(self) -> None:
        try:
            self.nft.close()
        finally:
            os.close(self._lock)

    def __enter__(self) -> Masquerade:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _ensure_chain(self) -> None:
        self.nft.table("add", name=TABLE)
        self.nft.chain("add", table=TABLE, name=CHAIN, hook="postrouting", type="nat", priority=100, policy=_NF_ACCEPT)

    def add(
        self,
        tag: Tag,
        address: ipaddress.IPv4Address | ipaddress.IPv6Address,
        subnet: ipaddress.IPv4Network | ipaddress.IPv6Network,
    ) -> None:
        self._ensure_chain()
        for _ in self.rules(lambda t: t == tag):  # a retried ADD: keep exactly one rule
            self.remove(lambda t: t == tag)
            break
        self.nft.rule(
            "add",
            table=TABLE,
            chain=CHAIN,
            expressions=[_rule_expressions(address, subnet)],
            userdata=tag.comment(),
        )

    def rules(self, match: Any = None) -> list[tuple[int, Tag]]:
        """(handle, tag) of this plugin's rules, optionally filtered by ``match(tag)``."""
        try:
            dump = self.nft.get_rules()
        except NetlinkError as exc:
            if exc.code == errno.ENOENT:
                return []
            raise
        out = []
        for msg in dump:
            if msg.get("NFTA_RULE_TABLE") != TABLE or msg.get("NFTA_RULE_CHAIN") != CHAIN:
                continue
            tag = Tag.parse(_comment_text(msg.get("NFTA_RULE_USERDATA")))
            if tag is not None and (match is None or match(tag)):
                out.append((int(msg.get("NFTA_RULE_HANDLE")), tag))
        return out

    def remove(self, match: Any) -> list[Tag]:
        removed = []
        for handle, tag in self.rules(match):
            try:
                self.nft.rule("del", table=TABLE, chain=CHAIN, handle=handle)
            except NetlinkError as exc:
                if exc.code != errno.ENOENT:
                    raise
            removed.append(tag)
        return removed


def remove_attachment(network: str, container_id: str, ifname: str, versions: Iterable[int] = (4, 6)) -> None:
    tag = Tag(network, container_id, ifname)
    for version in versions:
        with Masquerade(version) as m:
            m.remove(lambda t: t == tag)
