"""Checkpoint 7 (book 5.3): the result document ADD prints, and the error document of a bad call."""

from __future__ import annotations

import ipaddress
import json

from kubelab_labkit.nodes import node_sh
from kubelab_labkit.outputs import capture

from .cnilab import BY_HAND_SUBNET, attachments, plugin_call
from .conftest import ByHand


def test_07_the_result_and_error_documents(by_hand: ByHand) -> None:
    """ADD's result names the host and container interfaces (the container's with its sandbox and real
    MAC), the address (in the range, on that interface, with the gateway) and the default route,
    in the configuration's cniVersion; a configuration of an unknown cniVersion, a missing CNI_NETNS and
    a malformed configuration each get the spec's error code and leave nothing behind.

    Hint (5.3): result = {cniVersion, interfaces: [{name, mac, sandbox?}], ips: [{address, gateway,
    interface: <index into interfaces>}], routes, dns}; errors are {cniVersion, code, msg, details} on stdout
    with a non-zero exit: 1 incompatible version, 4 invalid environment variables, 6 decoding failure,
    7 invalid configuration; refused means nothing reserved, no veth on the bridge, no interface in the
    namespace (check before you allocate: the starter's dispatch and check_conf in student_cni/plugin.py).
    """
    node, conf, cid, netns = by_hand.node, by_hand.conf, by_hand.container_id, by_hand.netns
    added = plugin_call(node, "ADD", conf, cid, netns)
    assert added.rc == 0, added
    result = added.document
    assert result.get("cniVersion") == conf["cniVersion"], result

    interfaces = result.get("interfaces") or []
    inside = [i for i, itf in enumerate(interfaces) if itf.get("sandbox") == netns and itf.get("name") == "eth0"]
    assert len(inside) == 1, f"one interface eth0 with sandbox {netns}: {interfaces}"
    assert any(not itf.get("sandbox") for itf in interfaces), f"the host side is listed too: {interfaces}"
    links = json.loads(node_sh(node, f"ip netns exec {netns.rsplit('/', 1)[1]} ip -j addr show eth0"))
    assert interfaces[inside[0]].get("mac") == links[0]["address"], (interfaces[inside[0]], links[0]["address"])

    (ip,) = [ip for ip in result.get("ips") or [] if ip.get("interface") == inside[0]]
    address = ipaddress.ip_interface(ip["address"])
    assert address.ip in ipaddress.ip_network(BY_HAND_SUBNET), f"{address} outside the configured {BY_HAND_SUBNET}"
    assert ipaddress.ip_address(ip["gateway"]) in ipaddress.ip_network(BY_HAND_SUBNET), ip
    on_link = [f"{a['local']}/{a['prefixlen']}" for a in links[0]["addr_info"] if a["family"] == "inet"]
    assert str(address) in on_link, f"the result's address {address} is on eth0: {on_link}"
    assert any(r.get("dst") == "0.0.0.0/0" and r.get("gw") == ip["gateway"] for r in result.get("routes") or []), (
        result.get("routes")
    )

    other = f"{cid}-bad"
    before = attachments(node, conf, [netns])
    unknown = plugin_call(node, "ADD", {**conf, "cniVersion": "9.9.9"}, other, netns).error()
    assert unknown["code"] == 1, unknown
    no_netns = plugin_call(node, "ADD", conf, other, "", "eth1").error()
    assert no_netns["code"] == 4, no_netns
    malformed = plugin_call(node, "ADD", {**conf, "ipam": "not an object"}, other, netns, "eth1")
    assert malformed.error()["code"] in (6, 7), malformed.document
    left = before.differences(attachments(node, conf, [netns]))
    assert not left, f"a refused ADD left something behind (or took something away): {left}"
    refusals = (("cniVersion 9.9.9", unknown), ("no CNI_NETNS", no_netns), ("ipam a string", malformed.document))
    capture("cni/result", "\n".join([added.stdout.strip(), *(f"{what}: {json.dumps(doc)}" for what, doc in refusals)]))
