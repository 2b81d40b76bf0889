"""Checkpoints 1 to 5 (book 5.1, 5.2, 5.4): the node agent runs everywhere, our configuration is the only CNI,
the plugin it names answers on every node, and CoreDNS runs on it.

Checkpoints 1 to 3 grade the platform's agent (components/cni/kubelab_cni/agent), whatever plugin it
installs; 4 and 5 grade the installed plugin (the reference, or yours with --impl).
"""

from __future__ import annotations

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit.nodes import Node, node_sh

from .cnilab import (
    AGENT,
    CONFLIST,
    SYSTEM_NS,
    active_cni_configs,
    agent_pods,
    conflist,
    plugin_call,
    reservations,
    routes,
)


def test_01_agent_on_every_node(kubectl: Kubectl, cni_network: str, cluster_nodes: dict[str, Node]) -> None:
    """The platform's agent, not your plugin: the agent DaemonSet has one Ready pod on each of the 3 nodes.

    Hint (5.1): `kubectl -n kube-system get ds,pods -l app=kubelab-cni-agent -o wide`, then
    `kubectl -n kube-system logs ds/kubelab-cni-agent` (the agent logs each step it takes: Agent.run in
    components/cni/kubelab_cni/agent/main.py); the DaemonSet is components/cni/deploy/agent.yaml.
    """
    ds = kubectl.json("-n", SYSTEM_NS, "get", "daemonset", AGENT)["status"]
    assert ds.get("numberReady") == len(cluster_nodes) == ds.get("desiredNumberScheduled"), ds
    ready_on = {
        p["spec"]["nodeName"]
        for p in agent_pods(kubectl)
        if all(s.get("ready") for s in p["status"].get("containerStatuses", [{}]))
    }
    assert ready_on == set(cluster_nodes), f"agent Ready on {sorted(ready_on)}, nodes {sorted(cluster_nodes)}"


def test_02_only_our_conflist(cni_network: str, cluster_nodes: dict[str, Node]) -> None:
    """The platform's agent, not your plugin: on every node /etc/cni/net.d holds exactly one active
    configuration, 05-kubelab-cni.conflist, naming the graded plugin first (host-local IPAM on the node's
    podCIDR, ipMasq) with portmap chained after it, and the agent put an executable file of that name in
    /opt/cni/bin (whether it works as a plugin is checkpoint 4's).

    Hint (5.1, 5.4): `docker exec NODE ls /etc/cni/net.d` and `docker exec NODE cat
    /etc/cni/net.d/05-kubelab-cni.conflist`; other files must be renamed (*.kubelab-disabled) or removed,
    since the runtime uses the first configuration in name order. The agent writes it with conflist and
    write_conflist in components/cni/kubelab_cni/agent/netconf.py, the plugin with install_plugin in
    agent/install.py (`docker exec NODE ls -l /opt/cni/bin`).
    """
    for name, info in cluster_nodes.items():
        assert active_cni_configs(name) == [CONFLIST.rsplit("/", 1)[1]], (name, active_cni_configs(name))
        doc = conflist(name)
        types = [p["type"] for p in doc["plugins"]]
        assert types[-1] == "portmap" and len(types) == 2, types
        ours = doc["plugins"][0]
        assert ours["ipam"]["ranges"] == [[{"subnet": info.cidr}]], (name, ours["ipam"])
        assert ours["ipMasq"] is True
        assert node_sh(name, f"test -x /opt/cni/bin/{types[0]} && echo ok").strip() == "ok", f"{name}: no binary"


def test_03_routes_to_every_other_node(cni_network: str, cluster_nodes: dict[str, Node]) -> None:
    """The platform's agent, not your plugin: each node routes every other node's podCIDR via that node's
    InternalIP (route protocol 75, the agent's).

    Hint (5.1): `docker exec NODE ip route show proto 75`; the agent watches nodes (RBAC: list/watch nodes):
    NodeWatcher in components/cni/kubelab_cni/agent/nodewatch.py feeds sync_routes in agent/routes.py;
    `kubectl -n kube-system logs ds/kubelab-cni-agent | grep route`.
    """
    for name in cluster_nodes:
        expected = sorted(
            f"{info.cidr} via {info.ip} dev eth0" for other, info in cluster_nodes.items() if other != name
        )
        got = [" ".join(r.split()[:5]) for r in routes(name)]
        assert got == expected, (name, got)


def test_04_plugin_answers_version(cni_network: str, cluster_nodes: dict[str, Node]) -> None:
    """On every node the plugin the conflist names (/opt/cni/bin/<type>) answers CNI_COMMAND=VERSION
    with a version document: exit 0, {"cniVersion": ..., "supportedVersions": [...]} on stdout, the
    conflist's cniVersion among the supported ones.

    Hint (5.1, 5.2): run it as the runtime does: `docker exec -i -e CNI_COMMAND=VERSION kubelab-worker
    /opt/cni/bin/kubelab-student <<< '{"cniVersion":"1.0.0"}'` (the file the conflist's "type" names). An
    empty or non-CNI file fails here: a package --impl needs __main__.py running the plugin (the
    starter's dispatch and cmd_version in student_cni/plugin.py; the reference's
    components/cni/kubelab_cni/commands/version.py); an executable file needs its shebang.
    """
    for name in cluster_nodes:
        doc = conflist(name)
        plugin, version = doc["plugins"][0]["type"], doc["cniVersion"]
        call = plugin_call(name, "VERSION", {"cniVersion": version}, plugin=plugin, timeout=30)
        what = f"{name}: /opt/cni/bin/{plugin} with CNI_COMMAND=VERSION"
        assert call.rc == 0, f"{what} exited {call.rc}: stdout {call.stdout[:300]!r}, stderr {call.stderr[-600:]!r}"
        answer = call.document
        assert isinstance(answer.get("cniVersion"), str) and answer["cniVersion"], f"{what}: no cniVersion: {answer}"
        supported = answer.get("supportedVersions")
        assert isinstance(supported, list) and all(isinstance(v, str) for v in supported), (
            f"{what}: supportedVersions is not a list of versions: {answer}"
        )
        assert version in supported, f"{what}: the conflist's cniVersion {version} is not in {supported}"


def test_05_coredns_on_our_network(kubectl: Kubectl, cni_network: str) -> None:
    """CoreDNS was restarted after the switch and runs with an address from the graded plugin, reserved in
    the node's IPAM store.

    Hint (5.1): the lab restarts CoreDNS pods older than the node's conflist (switch_network in
    labs/cni/tests/conftest.py); `kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide` and
    `describe` them: a FailedCreatePodSandBox event carries the plugin's error from ADD
    (components/cni/kubelab_cni/commands/add.py; the starter's cmd_add in student_cni/plugin.py).

    Hint (5.5): the pod's IP must be a file in the store, <dataDir>/<network name>/<ip>
    (`docker exec NODE ls /var/lib/cni/networks/kubelab`), as host-local lays it out: the allocator in
    student_cni/ipam.py (the reference's kubelab_cni/ipam/store.py).
    """
    pods = kubectl.json("-n", SYSTEM_NS, "get", "pods", "-l", "k8s-app=kube-dns")["items"]
    pods = [p for p in pods if "deletionTimestamp" not in p["metadata"]]  # old ones on their way out
    assert pods
    for p in pods:
        statuses = p["status"].get("containerStatuses", [])
        if not (statuses and all(s.get("ready") for s in statuses)):
            name = p["metadata"]["name"]
            events = kubectl.run(
                "-n", SYSTEM_NS, "get", "events", "--field-selector", f"involvedObject.name={name}",
                "-o", "custom-columns=REASON:.reason,MESSAGE:.message", check=False,
            )  # fmt: skip
            raise AssertionError(f"{name} is {p['status'].get('phase')}, not Ready; its events:\n{events[-1500:]}")
        ip, node = p["status"]["podIP"], p["spec"]["nodeName"]
        assert ip in reservations(node), f"{p['metadata']['name']} {ip} is not in {node}'s IPAM store"
