"""The CNI exec protocol: environment parameters, error documents and version rules.

Standard library and the kit's error base only (no third-party import): the daemon and the
in-process fallback both use it, and the daemon answers with exactly the bytes a plugin
process would have written. The shim itself does not import it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from kubelab_kit.errors import OUTPUT_LINES, KubelabError

CURRENT_VERSION = "1.1.0"
SUPPORTED_VERSIONS: tuple[str, ...] = ("0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")
COMMANDS = ("ADD", "DEL", "CHECK", "VERSION", "STATUS", "GC")

# CNI_CONTAINERID: alphanumeric first, then alphanumerics, "_", "." or "-" (spec section 2).
_CONTAINER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
# Linux interface names: 1..15 bytes, no "/", no whitespace, not "." or "..".
_IFNAME = re.compile(r"^[^/\s:]{1,15}$")


class Code(IntEnum):
    """Error codes: 1-99 from the spec, 100+ this plugin's own."""

    INCOMPATIBLE_VERSION = 1
    UNSUPPORTED_FIELD = 2
    UNKNOWN_CONTAINER = 3
    INVALID_ENVIRONMENT = 4
    IO_FAILURE = 5
    DECODING_FAILURE = 6
    INVALID_CONFIG = 7
    TRY_AGAIN_LATER = 11
    PLUGIN_NOT_AVAILABLE = 50
    LIMITED_CONNECTIVITY = 51
    # plugin-specific
    INTERNAL = 100
    INTERFACE_EXISTS = 101
    RANGE_EXHAUSTED = 102
    CHECK_FAILED = 103
    NETLINK_FAILURE = 104


class CniError(KubelabError):
    """An error that becomes the spec's error document on stdout (:meth:`document`, :meth:`Outcome.failure`).

    A :class:`~kubelab_kit.errors.KubelabError` of area ``cni``, so outside the exec protocol
    (a tool, the agent) it renders like every other error: ``cni: error <code>: <msg>``, the
    details below. The protocol output is built from ``code``, ``msg`` and ``details`` only.
    """

    area = "cni"

    def __init__(self, code: int, msg: str, details: str = "", *, fix: str = "") -> None:
        self.code = int(code)
        self.msg = msg
        self.details = details
        super().__init__(msg, fix=fix)

    def headline(self) -> str:
        return f"error {self.code}: {self.msg}"

    def render(self) -> str:
        text = super().render()
        lines = self.details.strip().splitlines()
        if not lines:
            return text
        head, _, rest = text.partition("\n")
        block = (
            [f"  details: {lines[0]}"]
            if len(lines) == 1
            else ["  details:", *(f"    {ln}" for ln in lines[-OUTPUT_LINES:])]
        )
        return "\n".join([head, *block, *([rest] if rest else [])])

    def document(self, cni_version: str = CURRENT_VERSION) -> dict[str, Any]:
        return {"cniVersion": cni_version, "code": self.code, "msg": self.msg, "details": self.details}

    def __reduce__(self) -> tuple[Any, ...]:
        # KubelabError's args are the rendered text; rebuild from the fields instead (multiprocessing)
        return (type(self), (self.code, self.msg, self.details), self.__dict__)


@dataclass(frozen=True)
class Outcome:
    """What a plugin process ends with: exit status, stdout and stderr bytes."""

    rc: int
    stdout: bytes = b""
    stderr: bytes = b""

    @classmethod
    def success(cls, document: Mapping[str, Any] | None) -> Outcome:
        return cls(0, b"" if document is None else dump(document))

    @classmethod
    def failure(cls, error: CniError, cni_version: str = CURRENT_VERSION) -> Outcome:
        log = f"kubelab-cni: error {error.code}: {error.msg}" + (f": {error.details}" if error.details else "")
        return cls(1, dump(error.document(cni_version)), (log + "\n").encode())


def dump(document: Mapping[str, Any]) -> bytes:
    return (json.dumps(document, indent=2) + "\n").encode()


@dataclass(frozen=True)
class Invocation:
    """The CNI_* parameters of one call, checked against what its command requires."""

    command: str
    container_id: str = ""
    netns: str = ""
    ifname: str = ""
    args: dict[str, str] = field(default_factory=dict)
    path: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Invocation:
        command = env.get("CNI_COMMAND", "")
        if not command:
            raise CniError(Code.INVALID_ENVIRONMENT, "CNI_COMMAND is not set")
        if command not in COMMANDS:
            raise CniError(Code.INVALID_ENVIRONMENT, f"CNI_COMMAND={command!r} is not one of {', '.join(COMMANDS)}")
        required = {
            "ADD": ("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"),
            "CHECK": ("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"),
            "DEL": ("CNI_CONTAINERID", "CNI_IFNAME"),
        }.get(command, ())
        missing = [name for name in required if not env.get(name)]
        if missing:
            raise CniError(Code.INVALID_ENVIRONMENT, f"{', '.join(missing)} must be set for {command}")
        container_id = env.get("CNI_CONTAINERID", "")
        if container_id and not _CONTAINER_ID.match(container_id):
            raise CniError(Code.INVALID_ENVIRONMENT, f"CNI_CONTAINERID={container_id!r} is not a valid container ID")
        ifname = env.get("CNI_IFNAME", "")
        if ifname and (not _IFNAME.match(ifname) or ifname in (".", "..")):
            raise CniError(Code.INVALID_ENVIRONMENT, f"CNI_IFNAME={ifname!r} is not a valid interface name")
        return cls(
            command=command,
            container_id=container_id,
            netns=env.get("CNI_NETNS", ""),
            ifname=ifname,
            args=parse_cni_args(env.get("CNI_ARGS", "")),
            path=tuple(p for p in env.get("CNI_PATH", "").split(":") if p),
        )


def parse_cni_args(raw: str) -> dict[str, str]:
    """``FOO=BAR;ABC=123`` into a dict; a malformed pair is an invalid environment."""
    out: dict[str, str] = {}
    for pair in filter(None, raw.split(";")):
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CniError(Code.INVALID_ENVIRONMENT, f"CNI_ARGS: {pair!r} is not KEY=VALUE")
        out[key] = value
    return out


def version_tuple(version: str) -> tuple[int, int, int]:
    parts = version.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise CniError(Code.DECODING_FAILURE, f"cniVersion {version!r} is not MAJOR.MINOR.PATCH")
    return int(parts[0]), int(parts[1]), int(parts[2])


def check_version(version: str) -> str:
    version_tuple(version)
    if version not in SUPPORTED_VERSIONS:
        raise CniError(
            Code.INCOMPATIBLE_VERSION,
            "incompatible CNI version",
            f"cniVersion {version} is not supported; supported: {', '.join(SUPPORTED_VERSIONS)}",
        )
    return version


def sniff_version(stdin: bytes) -> str:
    """The cniVersion of a request, if it can be read, for labelling an error document."""
    try:
        doc = json.loads(stdin)
    except ValueError:
        return CURRENT_VERSION
    version = doc.get("cniVersion") if isinstance(doc, dict) else None
    return version if isinstance(version, str) and version in SUPPORTED_VERSIONS else CURRENT_VERSION
