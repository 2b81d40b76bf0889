"""Assets the site serves itself, so that it works where nothing is reachable: mermaid.js.

mkdocs-material draws ```mermaid blocks with mermaid.js, which it would fetch from a CDN; the
site ships the version pinned in ``cluster/versions.toml`` instead, taken from the npm registry
once (its sha512 checked against the registry's record) and cached by version.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import urllib.request
from pathlib import Path

from kubelab_cluster.pins import load_pins
from kubelab_cluster.progress import step
from kubelab_docs.errors import DocsError
from kubelab_docs.site import docs_cache
from kubelab_kit.files import atomic_write

REGISTRY = "https://registry.npmjs.org"
MERMAID_FILE = "package/dist/mermaid.min.js"
SITE_PATH = "assets/javascripts/mermaid.min.js"  # where the site serves it


class AssetError(DocsError):
    def __init__(self, problem: str) -> None:
        super().__init__(
            problem, fix="the npm registry must be reachable once (the file is cached by version after that)"
        )


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            body: bytes = response.read()
            return body
    except OSError as exc:
        raise AssetError(f"downloading {url} failed: {exc}") from exc


def verify(blob: bytes, integrity: str) -> None:
    """Check ``blob`` against an npm ``dist.integrity`` (``sha512-<base64>``)."""
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512":
        raise AssetError(f"unsupported integrity {integrity!r} (expected sha512-...)")
    actual = base64.b64encode(hashlib.sha512(blob).digest()).decode()
    if actual != expected:
        raise AssetError(f"the download does not match the registry's sha512 ({actual} != {expected})")


def extract(tarball: bytes, member: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        try:
            handle = tar.extractfile(member)
        except KeyError:
            handle = None
        if handle is None:
            raise AssetError(f"the package has no {member}")
        return handle.read()


def mermaid() -> Path:
    """The pinned mermaid.min.js in the cache (downloaded the first time)."""
    version = load_pins().docs.mermaid
    target = docs_cache() / "assets" / f"mermaid-{version}" / "mermaid.min.js"
    if target.is_file():
        return target
    with step(f"mermaid {version} from the npm registry") as s:
        record = json.loads(_get(f"{REGISTRY}/mermaid/{version}"))
        tarball = _get(record["dist"]["tarball"])
        verify(tarball, record["dist"]["integrity"])
        script = extract(tarball, MERMAID_FILE)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, script)
        s.note = f"{len(script) / 1e6:.1f} MB"
    return target
