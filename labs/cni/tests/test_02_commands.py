"""Checkpoint 6 (book 5.2): the six commands, by hand on a node, as a runtime runs the plugin.

The node's installed plugin (ours, or yours with --impl) is executed with the configuration on
stdin and CNI_* in the environment, on a network of its own (see the ``by_hand`` fixture).
"""

from __future__ import annotations

from kubelab_labkit.nodes import node_sh
from kubelab_labkit.outputs import capture

from .cnilab import Call, attachments, plugin_call
from .conftest import ByHand


def test_06_version_status_add_check_del_gc(by_hand: ByHand) -> None:
    """VERSION names the versions the plugin speaks; STATUS says it is ready; ADD attaches; CHECK
    passes, then fails with an error document once the address is gone from the interface; GC with an
    empty cni.dev/valid-attachments removes the attachment (reservation, veth); DEL afterwards is a
    no-op success.

    Hint (5.2): every command reads CNI_COMMAND first: VERSION prints {cniVersion, supportedVersions};
    STATUS prints nothing and exits 0 when ADD would work; CHECK needs prevResult (the ADD's result) and
    exits non-zero with {code, msg} on stdout when the attachment differs; GC removes everything of the
    network whose (containerID, ifname) is not in cni.dev/valid-attachments (its reservation, its veth: the
    store's files name both); DEL of something gone succeeds. The starter's cmd_status, cmd_check, cmd_gc
    in student_cni/plugin.py; the reference's components/cni/kubelab_cni/commands/.
    """
    node, conf, cid, netns = by_hand.node, by_hand.conf, by_hand.container_id, by_hand.netns

    def call(command: str, config: dict[str, object], container_id: str = "", netns: str = "") -> Call:
        return plugin_call(node, command, config, container_id, netns, plugin=str(conf["type"]))

    version = call("VERSION", {"cniVersion": conf["cniVersion"]})  # VERSION reads only the version
    assert version.rc == 0, version
    assert conf["cniVersion"] in version.document.get("supportedVersions", []), version.document

    status = call("STATUS", conf)
    assert status.rc == 0 and not status.stdout.strip(), status

    added = call("ADD", conf, container_id=cid, netns=netns)
    assert added.rc == 0, added
    result = added.document

    checked = call("CHECK", {**conf, "prevResult": result}, container_id=cid, netns=netns)
    assert checked.rc == 0, checked

    node_address = next(ip["address"] for ip in result["ips"])
    node_sh(node, f"ip netns exec {netns.rsplit('/', 1)[1]} ip addr del {node_address} dev eth0")
    broken = call("CHECK", {**conf, "prevResult": result}, container_id=cid, netns=netns)
    error = broken.error()
    assert node_address.split("/")[0] in error["msg"] + error.get("details", ""), error

    held = attachments(node, conf, [netns])
    assert held.of(cid) and held.bridge_ports, f"ADD left no reservation or no veth on the bridge for GC: {held}"
    collected = call("GC", {**conf, "cni.dev/valid-attachments": []})
    assert collected.rc == 0, collected
    left = attachments(node, conf, [netns])
    assert not left.of(cid), f"GC left the stale attachment's reservation: {left.of(cid)}"
    assert not left.bridge_ports, f"GC left the stale attachment's host veth on {conf['bridge']}: {left.bridge_ports}"
    assert not left.inside[netns], f"GC left the stale attachment's interface in the namespace: {left.inside[netns]}"

    deleted = call("DEL", conf, container_id=cid, netns=netns)
    assert deleted.rc == 0, deleted
    capture(
        "cni/commands",
        f"VERSION  rc=0 {version.stdout.strip()}\n"
        "STATUS   rc=0 (nothing on stdout)\n"
        f"ADD      rc=0 eth0 {node_address}\n"
        "CHECK    rc=0\n"
        f"CHECK    rc={broken.rc} after `ip addr del {node_address} dev eth0`: {broken.stdout.strip()}\n"
        "GC       rc=0 with cni.dev/valid-attachments []: reservation and veth gone\n"
        "DEL      rc=0",
    )
