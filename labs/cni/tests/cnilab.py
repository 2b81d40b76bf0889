"""Helpers of the CNI lab's checkpoints: the agent's manifests, the --impl archive, pods,
and the node-side inspections (through `docker exec NODE ...`, since each node is a kind container).
"""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import subprocess
import tarfile
import time
from pathlib import Path
from string import Template
from typing import Any

from kubelab_cluster.kind import pods
from kubelab_cluster.kind.kubectl import Kubectl

LAB = Path(__file__).resolve().parent.parent
MANIFEST = LAB / "manifests" / "agent.yaml"
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

        if path.is_dir():
            if not (path / "__init__.py").is_file() or not (path / "__main__.py").is_file():
                raise SystemExit(f"--impl {path}: a package directory needs __init__.py and __main__.py")
            for f in sorted(p for p in path.rglob("*") if p.is_file()):
                tar.add(f, arcname=f"pkg/{path.name}/{f.relative_to(path)}", filter=clean)
        else:
            info = clean(tar.gettarinfo(str(path), arcname=f"bin/{path.name}"))
            assert info is not None
            info.mode = 0o755
            with path.open("rb") as fh:
                tar.addfile(info, fh)
    return buf.getvalue()


def render(image: str, cluster_cidr: str, impl_key: str) -> str:
    return Template(MANIFEST.read_text()).substitute(IMAGE=image, CLUSTER_CIDR=cluster_cidr, IMPL_KEY=impl_key)


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
        kubectl.run("apply", "-f", "-", stdin=cm)
    kubectl.run("apply", "-f", "-", stdin=render(image, cluster_cidr, key))
    kubectl.run("-n", SYSTEM_NS, "rollout", "status", f"daemonset/{AGENT}", "--timeout=150s", timeout=160)


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


def node_sh(node: str, script: str, check: bool = True) -> str:
    proc = subprocess.run(["docker", "exec", node, "sh", "-c", script], capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"on {node}: `{script}` failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def node_python(node: str, code: str) -> str:
    """Run Python on the node's own network (its python3 is the one the plugin uses)."""
    proc = subprocess.run(["docker", "exec", node, "python3", "-c", code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"on {node}: python3 failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def nodes(kubectl: Kubectl) -> dict[str, dict[str, str]]:
    """name -> {ip, cidr, role}"""
    out = {}
    for n in kubectl.json("get", "nodes")["items"]:
        ip = next(a["address"] for a in n["status"]["addresses"] if a["type"] == "InternalIP")
        role = "control-plane" if "node-role.kubernetes.io/control-plane" in n["metadata"]["labels"] else "worker"
        out[n["metadata"]["name"]] = {"ip": ip, "cidr": n["spec"].get("podCIDR", ""), "role": role}
    return out


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


def pod(
    name: str,
    image: str,
    node: str,
    command: list[str],
    *,
    restart: str = "Never",
    labels: dict[str, str] | None = None,
    ports: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return pods.pod_manifest(name, NS, image, node, command, restart=restart, labels=labels, ports=ports)


apply = pods.apply


def wait_phase(kubectl: Kubectl, name: str, phases: set[str], timeout: float = 90) -> dict[str, Any]:
    return pods.wait_phase(kubectl, NS, name, phases, timeout)


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


def run_to_completion(kubectl: Kubectl, name: str, image: str, node: str, code: str) -> str:
    return pods.run_to_completion(kubectl, NS, name, image, node, code)


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
