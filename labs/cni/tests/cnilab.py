"""What only the CNI lab's checkpoints need: the agent (components/cni/deploy/agent.yaml) and the
--impl archive it installs, and the node-side inspections of our network (conflist, IPAM store,
veths, routes). Generic helpers (pods, nodes, apply) come from the lab kit.

The inspections assume nothing of the plugin but what the configuration says and host-local's
store layout: the store is read as files (``<dataDir>/<name>/<address>`` holding
``<containerID>\r\n<ifname>``), interfaces through the kernel (a host veth belongs to the
pod sandbox whose network namespace holds its peer, found with crictl), never through
names or aliases one plugin happens to set.
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
from kubelab_labkit.nodes import node_run, node_sh

NS = "kubelab-cni-lab"
SYSTEM_NS = "kube-system"
AGENT = "kubelab-cni-agent"
IMPL_CONFIGMAP = "kubelab-cni-impl"
CONFLIST = "/etc/cni/net.d/05-kubelab-cni.conflist"
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


def conflist(node: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(node_sh(node, f"cat {CONFLIST}"))
    return doc


def plugin_conf(node: str) -> dict[str, Any]:
    """The conflist's first plugin as the runtime hands it over: with ``name`` and ``cniVersion`` copied in."""
    doc = conflist(node)
    return {**doc["plugins"][0], "name": doc["name"], "cniVersion": doc["cniVersion"]}


def store_dir(conf: dict[str, Any]) -> str:
    """host-local's store of a network: ``<ipam.dataDir>/<name>``."""
    return f"{(conf.get('ipam') or {}).get('dataDir') or '/var/lib/cni/networks'}/{conf['name']}"


_READ_STORE = """
import ipaddress, json, os, sys
d, out = sys.argv[1], {}
for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        continue
    try:
        out[name] = open(os.path.join(d, name), encoding="utf-8", errors="replace").read()
    except OSError:
        pass
last = os.path.join(d, "last_reserved_ip.0")
print(json.dumps({"entries": out, "last": open(last).read().strip() if os.path.isfile(last) else None}))
"""


@dataclass(frozen=True)
class Store:
    """A network's IPAM store on a node, read as host-local's files."""

    directory: str
    raw: dict[str, str]  # address -> the file's content
    last_reserved: str | None  # last_reserved_ip.0

    @property
    def entries(self) -> dict[str, tuple[str, str]]:
        """address -> (container ID, ifname): the file's two lines."""
        out = {}
        for address, text in self.raw.items():
            lines = text.splitlines()
            out[address] = (lines[0].strip() if lines else "", lines[1].strip() if len(lines) > 1 else "")
        return out


def read_store(node: str, directory: str) -> Store:
    doc = json.loads(node_run(node, "python3", "-c", _READ_STORE, directory))
    return Store(directory, doc["entries"], doc["last"])


def reservations(node: str) -> dict[str, str]:
    """The IPAM store of the node's network (the conflist's): address -> container ID."""
    return {a: cid for a, (cid, _) in read_store(node, store_dir(plugin_conf(node))).entries.items()}


# Every Ready pod sandbox of the node (crictl), and the veths in its network namespace with their
# peers' interface index on the node: the kernel's own pairing, whatever the plugin named them.
_SANDBOXES = """
import json, subprocess
def out(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True).stdout
ids = out("crictl", "pods", "-q", "--no-trunc", "--state", "ready").split()
raw, docs, i = out("crictl", "inspectp", "-o", "json", *ids) if ids else "", [], 0
decoder = json.JSONDecoder()
while True:
    while i < len(raw) and raw[i].isspace():
        i += 1
    if i >= len(raw):
        break
    doc, i = decoder.raw_decode(raw, i)
    docs += doc if isinstance(doc, list) else [doc]  # one ID: an object; more: a list of them
found = []
for doc in docs:
    status = doc.get("status") or {}
    meta = status.get("metadata") or {}
    spaces = ((doc.get("info") or {}).get("runtimeSpec") or {}).get("linux", {}).get("namespaces") or []
    netns = next((n.get("path") or "" for n in spaces if n.get("type") == "network"), "")
    veths = []
    if netns:
        for link in json.loads(out("nsenter", "--net=" + netns, "ip", "-j", "link", "show", "type", "veth") or "[]"):
            veths.append([link["ifname"], link.get("link_index")])
    found.append({"id": status.get("id", ""), "pod": meta.get("namespace", "") + "/" + meta.get("name", ""),
                  "uid": meta.get("uid", ""), "ip": (status.get("network") or {}).get("ip", ""),
                  "netns": netns, "veths": veths})
print(json.dumps(found))
"""


@dataclass(frozen=True)
class Sandbox:
    """A Ready pod sandbox on a node: its ID (the CNI_CONTAINERID of its ADD), pod, IP and veths."""

    id: str
    pod: str  # namespace/name
    uid: str
    ip: str
    netns: str  # "" for a host-network pod
    veths: dict[str, int | None]  # ifname inside -> the peer's ifindex on the node

    @property
    def host_ifindexes(self) -> set[int]:
        return {i for i in self.veths.values() if i is not None}


def sandboxes(node: str) -> dict[str, Sandbox]:
    """Ready pod sandboxes on ``node``, by ID (crictl: the runtime's view, not the API server's)."""
    out = {}
    for d in json.loads(node_run(node, "python3", "-c", _SANDBOXES)):
        out[d["id"]] = Sandbox(d["id"], d["pod"], d["uid"], d["ip"], d["netns"], dict(d["veths"]))
    return out


@dataclass(frozen=True)
class Veth:
    ifindex: int
    name: str
    master: str  # the bridge it is attached to, or ""
    peer_on_host: bool  # both ends on the node: a pair never moved into a pod (a half-done ADD)


def host_veths(node: str) -> dict[int, Veth]:
    """Every veth in the node's own network namespace, by ifindex."""
    out = {}
    for link in json.loads(node_sh(node, "ip -j link show type veth") or "[]"):
        on_host = "link_netnsid" not in link and bool(link.get("link"))
        out[link["ifindex"]] = Veth(link["ifindex"], link["ifname"], link.get("master", ""), on_host)
    return out


def netns_links(node: str, netns: str) -> list[str]:
    """The interfaces inside a network namespace (by path), other than lo."""
    links = json.loads(node_sh(node, f"nsenter --net={netns} ip -j link show", check=False) or "[]")
    return sorted(link["ifname"] for link in links if link["ifname"] != "lo")


def host_peer(node: str, netns: str, ifname: str = "eth0") -> str | None:
    """The name on the node of the veth whose peer is ``ifname`` in the namespace ``netns`` (a path)."""
    links = json.loads(node_sh(node, f"nsenter --net={netns} ip -j link show {ifname}", check=False) or "[]")
    index = links[0].get("link_index") if links else None
    veth = host_veths(node).get(index) if isinstance(index, int) else None
    return veth.name if veth else None


def leaks(node: str, conf: dict[str, Any]) -> dict[str, str]:
    """What of the network on ``node`` belongs to no Ready pod sandbox: key -> what it is.

    Reservations whose container ID is no live sandbox's; veths on the configured bridge whose
    peer is in no live sandbox; veth pairs with both ends on the node.
    """
    live = sandboxes(node)
    mine = {i for sb in live.values() for i in sb.host_ifindexes}
    found = {}
    for address, (cid, ifname) in read_store(node, store_dir(conf)).entries.items():
        if cid not in live:
            found[f"ip {address}"] = f"{address} is reserved for {cid[:16]}.. {ifname}, no live pod sandbox on {node}"
    for veth in host_veths(node).values():
        if veth.master == conf.get("bridge") and veth.ifindex not in mine:
            found[f"veth {veth.name}"] = f"veth {veth.name} on {veth.master} has its peer in no live pod sandbox"
        elif veth.peer_on_host:
            found[f"veth {veth.name}"] = f"veth {veth.name} has both ends on the node (never moved into a pod)"
    return found


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


def by_hand_network(
    node: str, network: str = BY_HAND_NETWORK, bridge: str = BY_HAND_BRIDGE, subnet: str = BY_HAND_SUBNET
) -> dict[str, Any]:
    """The node's own plugin configuration (the conflist's first plugin, as a runtime derives it),
    on a network of its own."""
    conf = plugin_conf(node)
    conf.update(cniVersion=BY_HAND_VERSION, name=network, bridge=bridge, ipMasq=False)
    conf["ipam"] = {**conf["ipam"], "ranges": [[{"subnet": subnet}]]}
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


@dataclass(frozen=True)
class Attachments:
    """What a by-hand network holds on the node: its store, the veths on its bridge, the namespaces' links."""

    store: dict[str, tuple[str, str]]  # address -> (container ID, ifname)
    bridge_ports: list[str]  # host veths attached to the network's bridge
    inside: dict[str, list[str]]  # netns path -> its interfaces other than lo

    def of(self, container_id: str) -> list[str]:
        """The reservations of one container, as text."""
        return [f"reservation {a} ({cid}, {ifn})" for a, (cid, ifn) in self.store.items() if cid == container_id]

    def differences(self, other: Attachments) -> list[str]:
        """What ``other`` (later) has that this one has not, and what it lost."""
        out = [f"reservation {a} {other.store[a]}" for a in sorted(set(other.store) - set(self.store))]
        out += [f"reservation {a} gone" for a in sorted(set(self.store) - set(other.store))]
        out += [f"veth {v} on the bridge" for v in sorted(set(other.bridge_ports) - set(self.bridge_ports))]
        out += [f"veth {v} gone from the bridge" for v in sorted(set(self.bridge_ports) - set(other.bridge_ports))]
        for ns, links in other.inside.items():
            before = self.inside.get(ns, [])
            out += [f"{link} in {ns}" for link in links if link not in before]
        return out


def attachments(node: str, conf: dict[str, Any], netns: list[str]) -> Attachments:
    store = read_store(node, store_dir(conf)).entries
    ports = sorted(v.name for v in host_veths(node).values() if v.master == conf["bridge"])
    return Attachments(store, ports, {ns: netns_links(node, ns) for ns in netns})


def remove_by_hand_network(node: str, conf: dict[str, Any], netns: list[str]) -> None:
    """A by-hand network's namespaces (by name), the host veths on its bridge, the bridge, its store."""
    bridge = conf["bridge"]
    script = "".join(f"ip netns del {ns} 2>/dev/null; " for ns in netns)
    script += "".join(f"ip link del {v.name} 2>/dev/null; " for v in host_veths(node).values() if v.master == bridge)
    node_sh(node, f"{script}ip link del {bridge} 2>/dev/null; rm -rf {store_dir(conf)}", check=False)
