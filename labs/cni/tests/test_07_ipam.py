"""Checkpoint 15 (book 5.5): IP allocation with host-local's semantics, read from its on-disk store.

The plugin's IPAM is exercised on a network of its own with a range of five addresses (see the
``ipam_network`` fixture): six concurrent ADDs, then DELs and ADDs one at a time, each step checked
against the store's files (one per address, holding container ID and ifname; last_reserved_ip.0).
"""

from __future__ import annotations

import ipaddress
import json
from concurrent.futures import ThreadPoolExecutor

from kubelab_labkit.outputs import capture

from .cnilab import Call, Store, attachments, host_peer, host_veths, plugin_call, read_store, store_dir
from .conftest import IPAM_SUBNET, IpamNetwork


def test_15_ipam_store_by_hand(ipam_network: IpamNetwork) -> None:
    """Six ADDs at once on a range of five (10.250.1.0/29: gateway .1, .2 to .6): five get the five
    addresses, never the gateway, no address twice, each reserved as a file naming its container ID and
    eth0, last_reserved_ip.0 the last handed out (.6); the sixth is refused with an error document and
    leaves nothing. DEL releases by container ID (the file, the veth) and is idempotent; allocation goes
    round robin after last_reserved_ip.0 (an address just freed is not handed out again while a later one
    is free).

    Hint (5.5): the store is host-local's (student_cni/ipam.py's docstring; the reference's
    components/cni/kubelab_cni/ipam/store.py and allocator.py): <dataDir>/<network>/<ip> holding
    "<containerID>\\r\\n<ifname>", last_reserved_ip.0, and a lock file held with fcntl.flock around every
    read-modify-write, so concurrent ADDs never pick the same address; a full range is an error
    ({"code": 102, "msg": "no free IP address"} in the reference), not a traceback or a duplicate.
    """
    node, conf = ipam_network.node, ipam_network.conf
    subnet = ipaddress.ip_network(IPAM_SUBNET)
    hosts = [str(a) for a in subnet.hosts()]  # .1 to .6
    gateway, free = hosts[0], hosts[1:]
    attach = dict(zip(ipam_network.container_ids, ipam_network.netns, strict=True))

    def add(cid: str) -> Call:
        return plugin_call(node, "ADD", conf, cid, attach[cid], timeout=120)

    def delete(cid: str) -> Call:
        return plugin_call(node, "DEL", conf, cid, attach[cid], timeout=120)

    def store() -> Store:
        return read_store(node, store_dir(conf))

    def address_of(call: Call) -> str:
        ips = call.document.get("ips") or []
        assert ips, f"{call.command}: the result has no ips: {call.document}"
        return str(ipaddress.ip_interface(ips[0]["address"]).ip)

    with ThreadPoolExecutor(len(attach)) as pool:
        calls = dict(zip(attach, pool.map(add, attach), strict=True))
    added = {cid: c for cid, c in calls.items() if c.rc == 0}
    refused = {cid: c for cid, c in calls.items() if c.rc != 0}
    assert len(added) == len(free) and len(refused) == 1, {cid: (c.rc, c.stdout[:200]) for cid, c in calls.items()}
    got = {cid: address_of(c) for cid, c in added.items()}
    assert sorted(got.values(), key=ipaddress.ip_address) == free, f"5 ADDs on {IPAM_SUBNET} got {got}"
    ((loser, refusal),) = refused.items()
    refusal_doc = refusal.error()

    s = store()
    assert gateway not in s.raw, f"the gateway {gateway} is reserved: {s.raw}"
    assert sorted(s.raw, key=ipaddress.ip_address) == free, f"{s.directory} holds {sorted(s.raw)}, not {free}"
    for cid, address in got.items():
        assert s.entries[address] == (cid, "eth0"), f"{s.directory}/{address} holds {s.raw[address]!r}, not {cid}/eth0"
    assert s.last_reserved == free[-1], f"last_reserved_ip.0 is {s.last_reserved!r} after handing out {free}"
    left = attachments(node, conf, [attach[loser]])
    assert not left.of(loser) and not left.inside[attach[loser]], f"the refused ADD left {left}"
    assert len(left.bridge_ports) == len(free), f"{len(left.bridge_ports)} veths on {conf['bridge']}, not 5"

    owner = {address: cid for cid, address in got.items()}
    first, second = owner[free[1]], owner[free[3]]  # the holders of .3 and .5
    veths = {cid: host_peer(node, attach[cid]) for cid in (first, second)}
    for cid in (first, second):
        for attempt in ("DEL", "DEL again"):
            call = delete(cid)
            assert call.rc == 0, f"{attempt} of {cid}: {call}"
    assert delete(loser).rc == 0, "DEL of a container whose ADD was refused must succeed"
    s = store()
    assert sorted(s.raw, key=ipaddress.ip_address) == [free[0], free[2], free[4]], (
        f"after DEL of the holders of {free[1]} and {free[3]} the store holds {sorted(s.raw)}"
    )
    left = attachments(node, conf, [attach[first], attach[second]])
    present = {v.name for v in host_veths(node).values()}
    for cid in (first, second):
        assert veths[cid] not in present, f"DEL of {cid} left its host veth {veths[cid]} (eth0's peer, {attach[cid]})"
        assert not left.inside[attach[cid]], f"DEL of {cid} left {left.inside[attach[cid]]} in {attach[cid]}"
    assert len(left.bridge_ports) == 3, f"after 2 DELs, not 3 veths on {conf['bridge']}: {left.bridge_ports}"

    again = add(loser)  # round robin after .6: wraps, skips the gateway and .2, takes .3
    assert again.rc == 0, again
    assert address_of(again) == free[1], f"ADD after last_reserved_ip.0 {free[-1]} got {address_of(again)}"
    assert delete(loser).rc == 0
    after = add(first)  # round robin after .3: .3 was just freed, .5 is next
    assert after.rc == 0, after
    assert address_of(after) == free[3], (
        f"ADD after last_reserved_ip.0 {free[1]} got {address_of(after)}, not {free[3]} (round robin)"
    )
    s = store()
    assert s.entries.get(free[3]) == (first, "eth0") and s.last_reserved == free[3], (s.raw, s.last_reserved)
    capture(
        "cni/ipam",
        f"ADD x6 at once  5 rc=0: {', '.join(free)}; 1 rc={refusal.rc}: {json.dumps(refusal_doc)}\n"
        f"store           {', '.join(free)}, each <containerID>\\r\\neth0; last_reserved_ip.0 {free[-1]}\n"
        f"DEL, DEL again  rc=0 rc=0 for the holders of {free[1]} and {free[3]}; DEL of the refused one rc=0\n"
        f"ADD             {free[1]} (round robin after {free[-1]}: wraps, skips the gateway {gateway} and {free[0]})\n"
        f"DEL, ADD        {free[3]} (round robin after {free[1]}: not {free[1]}, just freed)",
    )
