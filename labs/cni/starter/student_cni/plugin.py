"""A CNI plugin, exec protocol (CNI spec 1.0.0), for the lab's configuration list.

The runtime (containerd) runs this file for every pod with:

- the environment: CNI_COMMAND (ADD, DEL, CHECK, VERSION), CNI_CONTAINERID, CNI_NETNS
  (a path like /var/run/netns/cni-...), CNI_IFNAME (eth0), CNI_ARGS, CNI_PATH;
- stdin: this plugin's entry of /etc/cni/net.d/05-kubelab-cni.conflist, with "name" and
  "cniVersion" copied in, e.g.::

      {"cniVersion": "1.0.0", "name": "kubelab", "type": "kubelab-student",
       "bridge": "kubelab0", "isGateway": true, "isDefaultGateway": true, "ipMasq": true,
       "hairpinMode": true, "mtu": 1500,
       "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.1.0/24"}]],
                "dataDir": "/var/lib/cni/networks"}}

It answers on stdout (a result for ADD, nothing for DEL and CHECK) and exits 0, or prints an
error document {"cniVersion", "code", "msg", "details"} and exits non-zero.

Runs with the node's /usr/bin/python3 (3.11). The standard library is enough (the node has
`ip`, `iptables` and `nsenter`); pyroute2 is importable too (the agent's copy of kubelab-cni's
dependencies is on sys.path).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from student_cni import ipam

SUPPORTED_VERSIONS = ["0.3.0", "0.3.1", "0.4.0", "1.0.0"]
CODE_INVALID_ENV = 4
CODE_DECODE = 6
CODE_NOT_IMPLEMENTED = 100  # plugin-specific codes start at 100


class CniError(Exception):
    def __init__(self, code: int, msg: str, details: str = "") -> None:
        super().__init__(msg)
        self.code, self.msg, self.details = code, msg, details


def not_implemented(what: str) -> CniError:
    return CniError(CODE_NOT_IMPLEMENTED, f"not implemented: {what}", "fill in the TODOs in student_cni/plugin.py")


# -- the commands: this is your part -----------------------------------------------------------


def cmd_add(env: dict[str, str], conf: dict[str, Any]) -> dict[str, Any]:
    """Attach the container to the network; return the result (book 5.3, 5.5).

    TODO(student), in this order (undo what you did if a later step fails):
      1. addresses: `result = ipam.run("ADD", env, conf)` (the reference host-local plugin:
         it reserves an address of the node's podCIDR in <dataDir>/<name>/<ip>);
      2. the bridge conf["bridge"] (create it if missing, `ip link add NAME type bridge`, up) with the
         gateway address (result["ips"][0]["gateway"] + the subnet's prefix length) on it;
      3. a veth pair: host end (a name derived from CNI_CONTAINERID, max 15 characters) on the bridge,
         peer moved into CNI_NETNS and renamed CNI_IFNAME (`ip link add ... netns PATH` or move it),
         the MTU conf["mtu"], hairpin mode on the host end;
      4. inside the netns (`nsenter --net=PATH ip ...`): the address, link up, default route via
         the gateway;
      5. ipMasq: masquerade traffic from the pod IP that leaves the subnet (an iptables rule
         with a comment naming CNI_CONTAINERID, so DEL can find it);
      6. return the result: {"cniVersion", "interfaces": [bridge, host veth, container end with
         "sandbox": CNI_NETNS], "ips": [{"address", "gateway", "interface": 2}], "routes", "dns"}.
         portmap (chained after you) needs "interfaces" and "ips" in it.
    """
    raise not_implemented("ADD")


def cmd_del(env: dict[str, str], conf: dict[str, Any]) -> None:
    """Detach: idempotent and best effort; the netns may already be gone (book 5.2).

    TODO(student): delete the host veth (its peer dies with it), the masquerade rule, then
    release the address: `ipam.run("DEL", env, conf)`. Nothing there is not an error.
    """
    raise not_implemented("DEL")


def cmd_check(env: dict[str, str], conf: dict[str, Any]) -> None:
    """Verify what ADD made is still there (conf["prevResult"] holds ADD's result).

    TODO(student, optional for the lab's checkpoints): compare the interface, address and routes
    in the netns with prevResult; raise CniError on a difference.
    """
    raise not_implemented("CHECK")


# -- the exec protocol: done for you -------------------------------------------------------------


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


def dispatch(env: dict[str, str], raw: bytes) -> dict[str, Any] | None:
    command = env.get("CNI_COMMAND", "")
    conf = read_conf(raw, command)
    if command == "VERSION":
        return cmd_version(conf)
    for var in ("CNI_CONTAINERID", "CNI_IFNAME") + (("CNI_NETNS",) if command != "DEL" else ()):
        if not env.get(var):
            raise CniError(CODE_INVALID_ENV, f"{var} is not set")
    if command == "ADD":
        return cmd_add(env, conf)
    if command == "DEL":
        cmd_del(env, conf)
        return None
    if command == "CHECK":
        cmd_check(env, conf)
        return None
    raise CniError(CODE_INVALID_ENV, f"unknown CNI_COMMAND {command!r}")


def main() -> None:
    env = dict(os.environ)
    raw = sys.stdin.buffer.read()
    try:
        answer = dispatch(env, raw)
    except CniError as exc:
        doc = {"cniVersion": "1.0.0", "code": exc.code, "msg": exc.msg, "details": exc.details}
        sys.stdout.write(json.dumps(doc) + "\n")
        sys.exit(1)
    if answer is not None:
        sys.stdout.write(json.dumps(answer) + "\n")
    sys.exit(0)
