"""A real registry for the tests (Debian's docker-registry, distribution 2.8, the binary the
cluster's registry image holds) as a local process, and images pushed to it from Python:
layers built here (files, directories, whiteouts), manifests and indexes as the OCI spec has them."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import httpx

from kubelab_client.testing.envtest import free_port
from kubelab_cluster.images.registry import registry_binary

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


@dataclass(frozen=True)
class Registry:
    host: str  # 127.0.0.1:PORT, as image references name it
    storage: Path
    auth: tuple[str, str] | None = None  # the one user of its htpasswd file, if it has one

    @property
    def url(self) -> str:
        return f"http://{self.host}"


@contextmanager
def running_registry(work: Path, auth: tuple[str, str] | None = None) -> Iterator[Registry]:
    """The registry on a free port; with ``auth``, HTTP Basic against an htpasswd file of that user."""
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    storage = work / "storage"
    config = work / "config.yml"
    text = (
        "version: 0.1\n"
        f"storage: {{filesystem: {{rootdirectory: {storage}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}}}\n"
        "log: {level: warn}\n"
    )
    if auth is not None:
        hashed = bcrypt.hashpw(auth[1].encode(), bcrypt.gensalt()).decode()
        (work / "htpasswd").write_text(f"{auth[0]}:{hashed}\n")
        text += f"auth: {{htpasswd: {{realm: kubelab, path: {work / 'htpasswd'}}}}}\n"
    config.write_text(text)
    log = (work / "registry.log").open("wb")
    proc = subprocess.Popen([str(registry_binary()), "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    registry = Registry(f"127.0.0.1:{port}", storage, auth)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{registry.url}/v2/", timeout=1, auth=auth).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"the registry did not start: {(work / 'registry.log').read_text()}")
            time.sleep(0.1)
        yield registry
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def layer(files: dict[str, bytes | None]) -> bytes:
    """A gzipped tar: ``name: content`` files, ``name/: None`` directories, ``.wh.`` names as they are."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name.rstrip("/"))
            info.mtime = 1700000000
            if content is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(content), 0o644
                tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0)


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def upload(registry: Registry, repo: str, data: bytes) -> str:
    started = httpx.post(f"{registry.url}/v2/{repo}/blobs/uploads/", auth=registry.auth)
    assert started.status_code == 202, started.text
    location = started.headers["location"]
    url = location if location.startswith("http") else registry.url + location
    sep = "&" if "?" in url else "?"
    done = httpx.put(
        f"{url}{sep}digest={digest(data)}",
        content=data,
        headers={"Content-Type": "application/octet-stream"},
        auth=registry.auth,
    )
    assert done.status_code == 201, done.text
    return digest(data)


def put_manifest(registry: Registry, repo: str, ref: str, body: dict[str, object], media: str) -> str:
    data = json.dumps(body).encode()
    answer = httpx.put(
        f"{registry.url}/v2/{repo}/manifests/{ref}", content=data, headers={"Content-Type": media}, auth=registry.auth
    )
    assert answer.status_code == 201, answer.text
    return digest(data)


def push_image(
    registry: Registry,
    repo: str,
    tag: str,
    layers: list[bytes],
    user: str = "",
    as_index: bool = False,
    config: dict[str, object] | None = None,
) -> str:
    """Push the layers and a config; the manifest (or an index over it and an arm64 decoy) under ``tag``."""
    diff_ids = [digest(gzip.decompress(blob)) for blob in layers]
    image_config = {"User": user, "Env": ["PATH=/bin"], "Cmd": ["/bin/app"]} if config is None else config
    config_blob = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": image_config,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }
    ).encode()
    described = [
        {
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": upload(registry, repo, b),
            "size": len(b),
        }
        for b in layers
    ]
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": upload(registry, repo, config_blob),
            "size": len(config_blob),
        },
        "layers": described,
    }
    if not as_index:
        return put_manifest(registry, repo, tag, manifest, OCI_MANIFEST)
    manifest_digest = put_manifest(registry, repo, digest(json.dumps(manifest).encode()), manifest, OCI_MANIFEST)
    size = len(json.dumps(manifest).encode())
    decoy = {**manifest, "annotations": {"kubelab.dev/decoy": "arm64"}}  # another platform's manifest
    decoy_digest = put_manifest(registry, repo, digest(json.dumps(decoy).encode()), decoy, OCI_MANIFEST)
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": decoy_digest,
                "size": len(json.dumps(decoy).encode()),
                "platform": {"os": "linux", "architecture": "arm64"},
            },
            {
                "mediaType": OCI_MANIFEST,
                "digest": manifest_digest,
                "size": size,
                "platform": {"os": "linux", "architecture": "amd64"},
            },
        ],
    }
    put_manifest(registry, repo, tag, index, OCI_INDEX)
    return manifest_digest
