"""The node agent keeps one route per other node's podCIDR, following nodes as they join
and leave (the job kindnetd does). Run in a private network namespace (unshare -n)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare for a private netns"
)

SCRIPT = textwrap.dedent(
    """
    import json, subprocess
    from kubelab_cni.agent.nodeinfo import NodeInfo
    from kubelab_cni.agent.routes import sync_routes

    subprocess.run(["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth0p"], check=True)
    subprocess.run(["ip", "link", "set", "eth0p", "up"], check=True)
    subprocess.run(["ip", "addr", "add", "10.99.0.1/24", "dev", "eth0"], check=True)
    subprocess.run(["ip", "link", "set", "eth0", "up"], check=True)
    # a route that is not the agent's: it must survive
    subprocess.run(["ip", "route", "add", "192.0.2.0/24", "via", "10.99.0.9"], check=True)

    me = NodeInfo("a", "10.99.0.1", "10.244.0.0/24")
    b = NodeInfo("b", "10.99.0.2", "10.244.1.0/24")
    c = NodeInfo("c", "10.99.0.3", "10.244.2.0/24")

    def routes():
        out = subprocess.run(["ip", "-j", "route"], capture_output=True, text=True, check=True).stdout
        return sorted(f"{r['dst']} via {r.get('gateway')}" for r in json.loads(out) if "gateway" in r)

    steps = {}
    steps["join"] = sync_routes("a", [me, b, c], "10.244.0.0/16")
    steps["after_join"] = routes()
    steps["again"] = sync_routes("a", [me, b, c], "10.244.0.0/16")
    steps["leave"] = sync_routes("a", [me, b], "10.244.0.0/16")
    steps["after_leave"] = routes()
    print(json.dumps(steps))
    """
)


def test_routes_follow_nodes_joining_and_leaving() -> None:
    proc = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    steps = json.loads(proc.stdout.strip().splitlines()[-1])
    assert sorted(steps["join"]) == ["10.244.1.0/24 via 10.99.0.2", "10.244.2.0/24 via 10.99.0.3"]
    assert "10.244.1.0/24 via 10.99.0.2" in steps["after_join"]
    assert "10.244.2.0/24 via 10.99.0.3" in steps["after_join"]
    assert steps["again"] == [], "a resync with nothing changed must change nothing"
    assert steps["leave"] == ["10.244.2.0/24 via 10.99.0.3 removed"]
    assert "10.244.2.0/24 via 10.99.0.3" not in steps["after_leave"]
    assert "192.0.2.0/24 via 10.99.0.9" in steps["after_leave"], "routes outside the pod CIDR are not ours"
    assert all("10.244.0.0/24" not in r for r in steps["after_leave"]), "no route to the node's own podCIDR"
