"""A CNI plugin, exec protocol (CNI spec 1.1.0), for the lab's configuration list.

The runtime (containerd) runs this package for every pod with:

- the environment: CNI_COMMAND (ADD, DEL, CHECK, STATUS, GC, VERSION), CNI_CONTAINERID,
  CNI_NETNS (a path like /var/run/netns/cni-...), CNI_IFNAME (eth0), CNI_ARGS, CNI_PATH;
- stdin: this plugin's entry of /etc/cni/net.d/05-kubelab-cni.conflist, with "name" and
  "cniVersion" copied in, e.g.::

      {"cniVersion": "1.0.0", "name": "kubelab", "type": "kubelab-student",
       "bridge": "kubelab0", "isGateway": true, "isDefaultGateway": true, "ipMasq": true,
       "hairpinMode": true, "mtu": 1500,
       "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.1.0/24"}]],
                "dataDir": "/var/lib/cni/networks"}}

It answers on stdout (a result for ADD, nothing for DEL, CHECK, STATUS and GC) and exits 0, or
prints an error document {"cniVersion", "code", "msg", "details"} and exits non-zero.

Runs with the node's /usr/bin/python3 (3.11). The standard library is enough (the node has
`ip`, `iptables` and `nsenter`; ``run`` below runs them); pyroute2 is importable too (the
agent's copy of kubelab-cni's dependencies is on sys.path). IPAM (``ipam.type: host-local``)
is yours too: student_cni/ipam.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from typing import Any

from student_cni import ipam
from student_cni.errors import (
    CODE_COMMAND_FAILED,
    CODE_DECODE,
    CODE_INCOMPATIBLE_VERSION,
    CODE_INVALID_CONFIG,
    CODE_INVALID_ENV,
    CniError,
    not_implemented,
)

SUPPORTED_VERSIONS = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]


# -- the commands: this is your part -----------------------------------------------------------


def cmd_add(env: dict[str, str], conf: dict[str, Any]) -> dict[str, Any]:
    """Attach the container to the network; return the result (book 5.3, 5.5).

    TODO(student), in this order (undo what you did if a later step fails):
      1. an address: ``lease = ipam.allocate(conf, env["CNI_CONTAINERID"], env["CNI_IFNAME"])``
         (your allocator, student_cni/ipam.py: it reserves it in <dataDir>/<name>/<ip>);
      2. the bridge conf["bridge"] (create it if missing, `ip link add NAME type bridge`, up) with the
         gateway address (lease.gateway + the subnet's prefix length) on it;
      3. a veth pair: host end ``veth_name(CNI_CONTAINERID, CNI_IFNAME)`` on the bridge, peer moved
         into CNI_NETNS and renamed CNI_IFNAME (`ip link add ... netns PATH` or move it), the MTU
         conf["mtu"], hairpin mode on the host end;
      4. inside the netns (`nsenter --net=PATH ip ...`): the address, link up, default route via
         the gateway;
      5. ipMasq: masquerade traffic from the pod IP that leaves the subnet (an iptables rule
         with a comment naming CNI_CONTAINERID and CNI_IFNAME, so DEL and GC can find it);
      6. return the result: {"cniVersion", "interfaces": [bridge, host veth, container end with
         "sandbox": CNI_NETNS], "ips": [{"address", "gateway", "interface": 2}], "routes", "dns"}.
         portmap (chained after you) needs "interfaces" and "ips" in it.
    """
    raise not_implemented("ADD")


def cmd_del(env: dict[str, str], conf: dict[str, Any]) -> None:
    """Detach: idempotent and best effort; the netns may already be gone (book 5.2, 5.5).

    TODO(student): delete the host veth (its peer dies with it), the masquerade rule, then
    release the address: ``ipam.release(conf, CNI_CONTAINERID, CNI_IFNAME)``. Nothing there is
    not an error.
    """
    raise not_implemented("DEL")


def cmd_check(env: dict[str, str], conf: dict[str, Any]) -> None:
    """Verify what ADD made is still there (conf["prevResult"] holds ADD's result) (book 5.2).

    TODO(student): compare the interface CNI_IFNAME, its addresses and the routes in the netns with
    prevResult; raise ``CniError(CODE_CHECK_FAILED, msg, details)`` on a difference, naming what is
    missing (e.g. msg "address missing on eth0", details the address).
    """
    raise not_implemented("CHECK")


def cmd_status(conf: dict[str, Any]) -> None:
    """STATUS (1.1.0): return (print nothing) when an ADD would work now (book 5.2).

    TODO(student): raise ``CniError(CODE_NOT_AVAILABLE, ...)`` when it would not, e.g. the range
    has no free address (``ipam.reservations`` against ``ipam.Range.from_conf(conf)``).
    """
    raise not_implemented("STATUS")


def cmd_gc(conf: dict[str, Any]) -> None:
    """GC (1.1.0): remove every attachment of this network the runtime no longer knows (book 5.2, 5.5).

    conf["cni.dev/valid-attachments"] lists the live ones: [{"containerID": ..., "ifname": ...}].
    TODO(student): for every reservation in the store (``ipam.reservations``) whose
    (container ID, ifname) is not listed, do what DEL does: the host veth (its name comes from the
    two: ``veth_name``), the masquerade rule, the reservation.
    """
    raise not_implemented("GC")


# -- helpers: done for you ------------------------------------------------------------------------


def veth_name(container_id: str, ifname: str) -> str:
    """The host end's name for an attachment: 15 characters at most (IFNAMSIZ), the same on every call."""
    return "veth" + hashlib.sha256(f"{container_id}/{ifname}".encode()).hexdigest()[:11]


def run(*command: str, check: bool = True) -> str:
    """Run a command (``run("ip", "link", "show", "kubelab0")``); its stdout, or CniError when it fails."""
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise CniError(CODE_COMMAND_FAILED, f"`{' '.join(command)}` failed ({proc.returncode})", proc.stderr.strip())
    return proc.stdout


# -- the exec protocol: done for you -------------------------------------------------------------

NEEDS = {  # the CNI_* variables each command needs (the spec's)
    "ADD": ("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"),
    "CHECK": ("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"),
    "DEL": ("CNI_CONTAINERID", "CNI_IFNAME"),
    "STATUS": (),
    "GC": (),
}


def cmd_version(conf: dict[str, Any]) -> dict[str, Any]:
    return {"cniVersion": conf.get("cniVersion", "1.0.0"), "supportedVersions": SUPPORTED_VERSIONS}


def read_conf(raw: bytes, command: str) -> dict[str, Any]:
    if not raw.strip() and command == "VERSION":
        return {}
    try:
        conf = json.loads(raw)
    except ValueError as exc:
        raise CniError(CODE_DECODE, "cannot decode the network configuration", str(exc)) from exc
    if not isinstance(conf, dict):
        raise CniError(CODE_DECODE, "the network configuration is not a JSON object")
    return conf


def check_conf(conf: dict[str, Any]) -> None:
    version = conf.get("cniVersion", "")
    if version not in SUPPORTED_VERSIONS:
        detail = f"cniVersion {version} is not supported; supported: {', '.join(SUPPORTED_VERSIONS)}"
        raise CniError(CODE_INCOMPATIBLE_VERSION, "incompatible CNI version", detail)
    if not isinstance(conf.get("name"), str) or not conf["name"]:
        raise CniError(CODE_INVALID_CONFIG, "invalid network configuration", "name is missing")
    if not isinstance(conf.get("ipam"), dict):
        raise CniError(CODE_INVALID_CONFIG, "invalid network configuration", "ipam is not an object")


def dispatch(env: dict[str, str], raw: bytes) -> dict[str, Any] | None:
    command = env.get("CNI_COMMAND", "")
    conf = read_conf(raw, command)
    if command == "VERSION":
        return cmd_version(conf)
    if command not in NEEDS:
        raise CniError(CODE_INVALID_ENV, f"unknown CNI_COMMAND {command!r}")
    for var in NEEDS[command]:
        if not env.get(var):
            raise CniError(CODE_INVALID_ENV, f"{var} must be set for {command}")
    check_conf(conf)
    if command == "ADD":
        return cmd_add(env, conf)
    if command == "DEL":
        cmd_del(env, conf)
    elif command == "CHECK":
        cmd_check(env, conf)
    elif command == "STATUS":
        cmd_status(conf)
    else:
        cmd_gc(conf)
    return None


def main() -> None:
    env = dict(os.environ)
    raw = sys.stdin.buffer.read()
    try:
        version = json.loads(raw).get("cniVersion")
    except (ValueError, AttributeError):
        version = None
    if version not in SUPPORTED_VERSIONS:  # an error document in a version the plugin speaks
        version = SUPPORTED_VERSIONS[-1]
    try:
        answer = dispatch(env, raw)
    except CniError as exc:
        doc = {"cniVersion": version, "code": exc.code, "msg": exc.msg, "details": exc.details}
        sys.stdout.write(json.dumps(doc) + "\n")
        sys.exit(1)
    if answer is not None:
        sys.stdout.write(json.dumps(answer) + "\n")
    sys.exit(0)
