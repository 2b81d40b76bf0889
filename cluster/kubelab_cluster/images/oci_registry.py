"""A local OCI registry as a process, and images pushed to it from Python.

The registry is Debian's docker-registry (distribution 2.8, :func:`registry_binary`, the
binary the cluster's registry image holds) on a free loopback port, its storage in a
directory of the caller's. Images are pushed over the distribution API with the standard
library only: layers built here (files, directories, whiteouts), configs, manifests and
indexes as the OCI image spec has them. The CRI runtime's tests and critest's images
(:mod:`kubelab_cluster.images.critest_images`) push through this module.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import socket
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kubelab_cluster.images.errors import ImageError
from kubelab_cluster.images.registry import registry_binary

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
MTIME = 1700000000


@dataclass(frozen=True)
class Registry:
    host: str  # 127.0.0.1:PORT, as image references name it
    storage: Path
    auth: tuple[str, str] | None = None  # the one user of its htpasswd file, if it has one

    @property
    def url(self) -> str:
        return f"http://{self.host}"


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def request(
    registry: Registry, method: str, url: str, data: bytes | None = None, headers: Mapping[str, str] | None = None
) -> Response:
    """One HTTP request with the registry's credentials; an HTTP error status is a response too."""
    sent = dict(headers or {})
    if registry.auth is not None:
        sent["Authorization"] = "Basic " + base64.b64encode(":".join(registry.auth).encode()).decode()
    req = urllib.request.Request(url, data=data, headers=sent, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as answer:
            return Response(answer.status, dict(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as exc:
        return Response(exc.code, dict(exc.headers.items()), exc.read())


def _ready(registry: Registry) -> bool:
    try:
        return request(registry, "GET", f"{registry.url}/v2/").status == 200
    except OSError:
        return False


@contextmanager
def running_registry(
    work: Path, auth: tuple[str, str] | None = None, htpasswd: str | None = None
) -> Iterator[Registry]:
    """The registry on a free port until the block ends; with ``auth``, HTTP Basic against an
    htpasswd file of that one user (``htpasswd``: its line, ``user:<bcrypt hash>``)."""
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    storage = work / "storage"
    text = (
        "version: 0.1\n"
        f"storage: {{filesystem: {{rootdirectory: {storage}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}}}\n"
        "log: {level: warn}\n"
    )
    if auth is not None:
        if htpasswd is None:
            raise ValueError("a registry with auth needs the htpasswd line of its user")
        (work / "htpasswd").write_text(htpasswd.rstrip("\n") + "\n")
        text += f"auth: {{htpasswd: {{realm: kubelab, path: {work / 'htpasswd'}}}}}\n"
    config = work / "config.yml"
    config.write_text(text)
    cmd = [str(registry_binary()), "serve", str(config)]
    registry = Registry(f"127.0.0.1:{port}", storage, auth)
    with (work / "registry.log").open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 20
            while not _ready(registry):
                if time.monotonic() > deadline or proc.poll() is not None:
                    output = (work / "registry.log").read_text(errors="replace")
                    raise ImageError("registry", "the local registry did not start", "see its log", cmd, output)
                time.sleep(0.1)
            yield registry
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def layer(files: Mapping[str, bytes | None], modes: Mapping[str, int] | None = None) -> bytes:
    """A gzipped tar: ``name: content`` files, ``name/: None`` directories, ``.wh.`` names as they are;
    ``modes`` overrides a file's mode (default 0644, directories 0755)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name.rstrip("/"))
            info.mtime = MTIME
            if content is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(content), (modes or {}).get(name, 0o644)
                tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0)


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _expect(answer: Response, status: int, what: str) -> None:
    if answer.status != status:
        raise ImageError(
            what,
            f"the registry answered {answer.status}",
            "see the registry's log",
            None,
            answer.body.decode(errors="replace"),
        )


def upload(registry: Registry, repo: str, data: bytes) -> str:
    """A blob, in one monolithic upload (POST, then PUT with its digest); returns the digest."""
    started = request(registry, "POST", f"{registry.url}/v2/{repo}/blobs/uploads/")
    _expect(started, 202, f"{repo} blob upload")
    location = started.headers["Location"]
    url = location if location.startswith("http") else registry.url + location
    sep = "&" if "?" in url else "?"
    headers = {"Content-Type": "application/octet-stream"}
    done = request(registry, "PUT", f"{url}{sep}digest={digest(data)}", data, headers)
    _expect(done, 201, f"{repo} blob upload")
    return digest(data)


def put_manifest(registry: Registry, repo: str, ref: str, body: Mapping[str, object], media: str) -> str:
    """A manifest or index under a tag or its digest; returns its digest."""
    data = json.dumps(body).encode()
    answer = request(registry, "PUT", f"{registry.url}/v2/{repo}/manifests/{ref}", data, {"Content-Type": media})
    _expect(answer, 201, f"{repo}:{ref}")
    return digest(data)


def _index(
    manifest: Mapping[str, object], manifest_digest: str, decoy_digest: str, decoy_size: int
) -> dict[str, object]:
    return {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": decoy_digest,
                "size": decoy_size,
                "platform": {"os": "linux", "architecture": "arm64"},
            },
            {
                "mediaType": OCI_MANIFEST,
                "digest": manifest_digest,
                "size": len(json.dumps(manifest).encode()),
                "platform": {"os": "linux", "architecture": "amd64"},
            },
        ],
    }


def push_image(
    registry: Registry,
    repo: str,
    tag: str,
    layers: list[bytes],
    user: str = "",
    as_index: bool = False,
    config: Mapping[str, object] | None = None,
) -> str:
    """Push the layers and a config; the manifest (or an index over it and an arm64 decoy) under ``tag``.

    ``config`` is the image config's ``config`` object (Env, Cmd, User...); without it a minimal
    one with ``user``. Returns the digest of the linux/amd64 manifest (the image's repo digest)."""
    diff_ids = [digest(gzip.decompress(blob)) for blob in layers]
    image_config = {"User": user, "Env": ["PATH=/bin"], "Cmd": ["/bin/app"]} if config is None else dict(config)
    config_blob = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": image_config,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }
    ).encode()
    described = [{"mediaType": OCI_LAYER, "digest": upload(registry, repo, b), "size": len(b)} for b in layers]
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": upload(registry, repo, config_blob), "size": len(config_blob)},
        "layers": described,
    }
    if not as_index:
        return put_manifest(registry, repo, tag, manifest, OCI_MANIFEST)
    manifest_digest = put_manifest(registry, repo, digest(json.dumps(manifest).encode()), manifest, OCI_MANIFEST)
    decoy = {**manifest, "annotations": {"kubelab.dev/decoy": "arm64"}}  # another platform's manifest
    decoy_digest = put_manifest(registry, repo, digest(json.dumps(decoy).encode()), decoy, OCI_MANIFEST)
    index = _index(manifest, manifest_digest, decoy_digest, len(json.dumps(decoy).encode()))
    put_manifest(registry, repo, tag, index, OCI_INDEX)
    return manifest_digest
