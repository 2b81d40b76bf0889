"""What only the CNI lab's checkpoints need: the agent (components/cni/deploy/agent.yaml) and the
--impl archive it installs, and the node-side inspections of our network (conflist, IPAM store,
veths, routes). Generic helpers (pods, nodes, apply) come from the lab kit.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import kube, manifests
from kubelab_labkit.nodes import node_sh

NS = "kubelab-cni-lab"
SYSTEM_NS = "kube-system"
AGENT = "kubelab-cni-agent"
IMPL_CONFIGMAP = "kubelab-cni-impl"
CONFLIST = "/etc/cni/net.d/05-kubelab-cni.conflist"
NETWORK = "kubelab"
IPAM_DIR = f"/var/lib/cni/networks/{NETWORK}"
ROUTE_PROTO = "75"


# -- the agent -----------------------------------------------------------------------------


def impl_archive(path: Path) -> bytes:
    """--impl as the agent expects it: ``bin/<file>`` (an executable) or ``pkg/<package>/`` (a Python package)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:

        def clean(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
            if "__pycache__" in info.name or info.name.endswith(".pyc"):
                return None
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            return info

        if path.is_dir():  # the kit checked: __init__.py and __main__.py are there
            for f in sorted(p for p in path.rglob("*") if p.is_file()):
                tar.add(f, arcname=f"pkg/{path.name}/{f.relative_to(path)}", filter=clean)
        else:
            info = clean(tar.gettarinfo(str(path), arcname=f"bin/{path.name}"))
            assert info is not None
            info.mode = 0o755
            with path.open("rb") as fh:
                tar.addfile(info, fh)
    return buf.getvalue()


def deploy_agent(kubectl: Kubectl, image: str, cluster_cidr: str, impl: Path | None) -> None:
    if impl is None:
        kubectl.run("-n", SYSTEM_NS, "delete", "configmap", IMPL_CONFIGMAP, "--ignore-not-found")
        key = "reference"
    else:
        data = impl_archive(impl)
        key = hashlib.sha256(data).hexdigest()[:12]
        tmp = Path(f"/tmp/kubelab-cni-impl-{key}.tar.gz")
        tmp.write_bytes(data)
        cm = kubectl.run(
            "-n", SYSTEM_NS, "create", "configmap", IMPL_CONFIGMAP, f"--from-file=impl.tar.gz={tmp}",
            "--dry-run=client", "-o", "yaml",
        )  # fmt: skip
        kube.apply(kubectl, cm)
    manifests.apply_component(kubectl, "cni", "agent.yaml", IMAGE=image, CLUSTER_CIDR=cluster_cidr, IMPL_KEY=key)
    kube.rollout(kubectl, f"daemonset/{AGENT}", namespace=SYSTEM_NS, timeout=150)


def agent_pods(kubectl: Kubectl) -> list[dict[str, Any]]:
    pods: list[dict[str, Any]] = kubectl.json("-n", SYSTEM_NS, "get", "pods", "-l", f"app={AGENT}")["items"]
    return pods


def pods_older_than_conflist(kubectl: Kubectl, namespace: str, selector: str) -> list[str]:
    """Pods started before their node's conflist was (re)written: they run on the previous network."""
    stale = []
    mtimes: dict[str, float] = {}
    for p in kubectl.json("-n", namespace, "get", "pods", "-l", selector)["items"]:
        node = p["spec"].get("nodeName")
        started = p["status"].get("startTime")
        if not node or not started:
            continue
        if node not in mtimes:
            mtimes[node] = float(node_sh(node, f"stat -c %Y {CONFLIST}").strip())
        if calendar.timegm(time.strptime(started, "%Y-%m-%dT%H:%M:%SZ")) <= mtimes[node] + 1:
            stale.append(p["metadata"]["name"])
    return stale


# -- nodes ---------------------------------------------------------------------------------


def active_cni_configs(node: str) -> list[str]:
    listing = node_sh(node, "ls -1 /etc/cni/net.d").split()
    return sorted(f for f in listing if f.endswith((".conf", ".conflist", ".json")))


def reservations(node: str) -> dict[str, str]:
    """The IPAM store of our network on ``node``: address -> container ID."""
    script = f'cd {IPAM_DIR} 2>/dev/null && for f in *; do printf \'%s %s\\n\' "$f" "$(head -n1 "$f")"; done'
    out = {}
    for line in node_sh(node, script, check=False).splitlines():
        name, _, cid = line.partition(" ")
        if name[:1].isdigit() and name.count(".") == 3:
            out[name] = cid.strip()
    return out


def our_veths(node: str) -> dict[str, str]:
    """Host-side veths of our plugin on ``node``: name -> container ID (from the alias the plugin sets)."""
    out = {}
    for link in json.loads(node_sh(node, "ip -j -d link show type veth") or "[]"):
        alias = link.get("ifalias") or ""
        parts = alias.split("/")
        if len(parts) == 4 and parts[0] == "kubelab-cni":
            out[link["ifname"]] = parts[2]
    return out


def routes(node: str) -> list[str]:
    return sorted(node_sh(node, f"ip route show proto {ROUTE_PROTO}").strip().splitlines())


# -- pods ----------------------------------------------------------------------------------


def fetch_code(url: str, tries: int = 20) -> str:
    """Python that prints the body at ``url``; retried while refused (a server just starting)."""
    return (
        "import time, urllib.request as u\n"
        f"for i in range({tries}):\n"
        "    try:\n"
        f"        print(u.urlopen('{url}', timeout=5).read().decode().strip()); break\n"
        "    except OSError as e:\n"
        f"        err = e; time.sleep(0.5)\n"
        "else:\n"
        "    raise SystemExit(f'{err}')\n"
    )


def exec_in(kubectl: Kubectl, name: str, code: str) -> str:
    return kubectl.run("-n", NS, "exec", name, "--", "python3", "-c", code, timeout=60)


# A tiny HTTP server: answers every GET with "<pod name> <client address>".
SERVER = """
import http.server, os, socketserver
name = os.environ.get("HOSTNAME", "?")
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"{name} {self.client_address[0]}".encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("", 8080), H).serve_forever()
"""


# -- the plugin by hand (5.2, 5.3) -----------------------------------------------------------

BY_HAND_NETWORK = "kubelab-by-hand"  # a network of its own: its store, bridge and GC touch no pod of the cluster
BY_HAND_BRIDGE = "kubelabhand0"
BY_HAND_SUBNET = "10.250.0.0/24"
BY_HAND_VERSION = "1.1.0"  # STATUS and GC are 1.1.0 commands


@dataclass(frozen=True)
class Call:
    """One execution of the node's installed plugin, as a runtime makes it."""

    command: str
    rc: int
    stdout: str
    stderr: str

    @property
    def document(self) -> dict[str, Any]:
        """stdout as JSON (a result, a version answer, or an error document)."""
        try:
            doc = json.loads(self.stdout)
        except ValueError as exc:
            raise AssertionError(
                f"{self.command}: stdout is not JSON: {self.stdout[:300]!r} {self.stderr[:300]}"
            ) from exc
        assert isinstance(doc, dict), f"{self.command}: stdout is not a JSON object: {doc!r}"
        return doc

    def error(self) -> dict[str, Any]:
        """The error document a failed call must print: code, msg (and details)."""
        assert self.rc != 0, f"{self.command} succeeded ({self.stdout[:300]!r}); it should have failed"
        doc = self.document
        assert isinstance(doc.get("code"), int) and doc.get("msg"), f"{self.command}: not a CNI error document: {doc}"
        return doc


def by_hand_network(node: str) -> dict[str, Any]:
    """The node's own plugin configuration (the conflist's first plugin, as a runtime derives it),
    on a network of its own."""
    doc = json.loads(node_sh(node, f"cat {CONFLIST}"))
    conf = dict(doc["plugins"][0])
    conf.update(cniVersion=BY_HAND_VERSION, name=BY_HAND_NETWORK, bridge=BY_HAND_BRIDGE, ipMasq=False)
    conf["ipam"] = {**conf["ipam"], "ranges": [[{"subnet": BY_HAND_SUBNET}]]}
    return conf


def plugin_call(
    node: str,
    command: str,
    conf: dict[str, Any],
    container_id: str = "",
    netns: str = "",
    ifname: str = "eth0",
    timeout: float = 60,
    plugin: str | None = None,
) -> Call:
    """Run the installed plugin on ``node`` (``/opt/cni/bin/<type>``): the config on stdin, CNI_* in the environment."""
    env = {"CNI_COMMAND": command, "CNI_PATH": "/opt/cni/bin"}
    env |= {"CNI_CONTAINERID": container_id} if container_id else {}
    env |= {"CNI_NETNS": netns, "CNI_IFNAME": ifname} if netns else ({"CNI_IFNAME": ifname} if container_id else {})
    binary = f"/opt/cni/bin/{plugin or conf['type']}"
    proc = subprocess.run(
        ["docker", "exec", "-i", *(f"--env={k}={v}" for k, v in env.items()), node, binary],
        input=json.dumps(conf), capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    return Call(command, proc.returncode, proc.stdout, proc.stderr)


def by_hand_leftovers(node: str, container_id: str) -> list[str]:
    """What of one by-hand attachment is still on the node: reservations, veths."""
    left = []
    store = f"/var/lib/cni/networks/{BY_HAND_NETWORK}"
    held = node_sh(node, f"grep -l {container_id} {store}/* 2>/dev/null", check=False).split()
    left += [f"reservation {path}" for path in held]
    for link in json.loads(node_sh(node, "ip -j -d link show type veth") or "[]"):
        if container_id in (link.get("ifalias") or ""):
            left.append(f"veth {link['ifname']} ({link['ifalias']})")
    return left


def remove_by_hand_network(node: str, netns: str) -> None:
    node_sh(node, f"ip netns del {netns} 2>/dev/null; ip link del {BY_HAND_BRIDGE} 2>/dev/null; "
                  f"rm -rf /var/lib/cni/networks/{BY_HAND_NETWORK}", check=False)  # fmt: skip
