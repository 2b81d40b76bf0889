"""Generated modules that are not stubs: protocol constants read from the pinned Go modules.

- ``spdy.py`` (``kubelab_protos.gen.spdy``): SPDY/3's zlib header dictionary (the SPDY/3 draft
  spec, section 2.6.10.1), as held by ``github.com/moby/spdystream``, the SPDY library of
  ``k8s.io/apimachinery`` at the staging pin, at the version apimachinery's go.mod requires.
  kubelab-cri's streaming server speaks SPDY/3.1 to the kubelet (the last hop of
  ``kubectl exec``, ``attach`` and ``port-forward`` is still SPDY in Kubernetes 1.37).

Like the stubs, they are generated into the stubs package's ``gen/`` and never committed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from kubelab_cluster.pins import Pins
from kubelab_cluster.protos.errors import ProtosError
from kubelab_cluster.toolchain.gotool import GoRunner

SPDY_MODULE = "github.com/moby/spdystream"
SPDY_DICTIONARY_LENGTH = 1423  # the SPDY/3 draft's dictionary


@dataclass(frozen=True)
class Asset:
    path: str  # relative to the gen/ folder
    origin: str  # module@version/file it was read from
    text: str = field(repr=False)


def _spdystream_version(runner: GoRunner, p: Pins) -> str:
    gomod = Path(runner.module_info("k8s.io/apimachinery", p.kubernetes.staging)["GoMod"]).read_text()
    found = re.search(rf"^\s*{re.escape(SPDY_MODULE)}\s+(v\S+)", gomod, re.MULTILINE)
    if not found:
        raise ProtosError(f"k8s.io/apimachinery@{p.kubernetes.staging} does not require {SPDY_MODULE}")
    return found.group(1)


def parse_go_bytes(source: str, name: str) -> bytes:
    """The bytes of ``var <name> = []byte{0x.., ...}`` in Go source."""
    start = source.find(f"{name} = []byte{{")
    if start < 0:
        raise ProtosError(f"no `{name} = []byte{{...}}` in the Go source")
    body = source[start : source.index("}", start)]
    return bytes(int(h, 16) for h in re.findall(r"0x([0-9a-fA-F]{2})", body))


def spdy_asset(runner: GoRunner, p: Pins) -> Asset:
    version = _spdystream_version(runner, p)
    origin = Path(runner.module_info(SPDY_MODULE, version)["Dir"]) / "spdy" / "dictionary.go"
    data = parse_go_bytes(origin.read_text(), "headerDictionary")
    if len(data) != SPDY_DICTIONARY_LENGTH:
        raise ProtosError(f"{origin}: the SPDY/3 dictionary has {SPDY_DICTIONARY_LENGTH} bytes, read {len(data)}")
    hexed = data.hex()
    lines = "\n".join(f'    "{hexed[i : i + 96]}"' for i in range(0, len(hexed), 96))
    text = (
        f'"""SPDY/3 zlib header dictionary, generated from {SPDY_MODULE}@{version}/spdy/dictionary.go."""\n\n'
        f"DICTIONARY = bytes.fromhex(\n{lines}\n)\n"
    )
    return Asset("spdy.py", f"{SPDY_MODULE}@{version}/spdy/dictionary.go", text)


def resolve_assets(runner: GoRunner, p: Pins) -> list[Asset]:
    return [spdy_asset(runner, p)]


def assets_key(assets: list[Asset]) -> str:
    digest = hashlib.sha256()
    for asset in assets:
        digest.update(f"\0{asset.path}\0{asset.origin}\0".encode())
        digest.update(asset.text.encode())
    return digest.hexdigest()


def write_assets(assets: list[Asset], out: Path) -> None:
    for asset in assets:
        target = out / asset.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(asset.text)
