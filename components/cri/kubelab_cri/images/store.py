"""The image store: content-addressed, shared by every container (book 4.4).

Under ``root``:

- ``blobs/sha256/<hex>``: a layer as downloaded (digest-checked), only until it is unpacked;
- ``layers/<hex>/``: each layer unpacked once (whiteouts in overlayfs's form), named by its
  *diff ID* (the digest of the uncompressed tar, from the image config), so images sharing a
  layer share its directory;
- ``images/<hex>.json``: one record per image, named by its ID (the config's digest): the
  references that name it (``repo_tags``, ``repo_digests``), its layers bottom first, its size
  and its config (user, env, entrypoint, cmd, working dir for containers).

A pull writes blobs and layers first and the record last, so an interrupted pull leaves no image.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import shutil
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kubelab_cri.disk_usage import walk_usage
from kubelab_cri.images.reference import Reference, parse
from kubelab_cri.images.registry import ANONYMOUS, Credentials, RegistryClient, RegistryError
from kubelab_cri.images.unpack import unpack


@dataclass
class ImageRecord:
    id: str  # sha256:<config digest hex>
    repo_tags: list[str] = field(default_factory=list)
    repo_digests: list[str] = field(default_factory=list)
    layers: list[str] = field(default_factory=list)  # diff IDs, bottom first
    size: int = 0
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def hex(self) -> str:
        return self.id.split(":", 1)[1]


def _hex(digest: str) -> str:
    algorithm, _, value = digest.partition(":")
    if algorithm != "sha256" or len(value) != 64:
        raise RegistryError("unsupported", f"digest {digest!r}: only sha256 is supported")
    return value


def _diff_id(blob: Path) -> str:
    """The digest of the uncompressed tar (gzip or not)."""
    hasher = hashlib.sha256()
    with blob.open("rb") as raw:
        magic = raw.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(blob, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            hasher.update(chunk)
    return "sha256:" + hasher.hexdigest()


class ImageStore:
    def __init__(self, root: Path, client: RegistryClient | None = None) -> None:
        self.root = root
        self.client = client or RegistryClient()
        self.blobs = root / "blobs" / "sha256"
        self.layers = root / "layers"
        self.images = root / "images"
        for path in (self.blobs, self.layers, self.images):
            path.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._layer_usage: dict[str, tuple[int, int]] = {}  # layer dir name -> (bytes, inodes)
        self._layer_locks: dict[str, threading.Lock] = {}

    # -- reading -------------------------------------------------------------------------------
    def records(self) -> list[ImageRecord]:
        out = []
        for path in sorted(self.images.glob("*.json")):
            try:
                out.append(ImageRecord(**json.loads(path.read_text())))
            except FileNotFoundError:
                continue  # removed while listing
        return out

    def find(self, text: str) -> ImageRecord | None:
        """By ID (``sha256:...`` or its hex, or a unique prefix of 12+), by tag or by digest reference."""
        records = self.records()
        bare = text.removeprefix("sha256:")
        if len(bare) >= 12 and all(c in "0123456789abcdef" for c in bare):
            matches = [r for r in records if r.hex.startswith(bare)]
            if len(matches) == 1:
                return matches[0]
        try:
            ref = str(parse(text))
        except ValueError:
            return None
        return next((r for r in records if ref in r.repo_tags or ref in r.repo_digests), None)

    def layer_dirs(self, record: ImageRecord) -> list[Path]:
        """The image's unpacked layers, top first (overlayfs's ``lowerdir`` order)."""
        return [self.layers / _hex(d) for d in reversed(record.layers)]

    # -- writing -------------------------------------------------------------------------------
    def pull(self, text: str, creds: Credentials = ANONYMOUS) -> ImageRecord:
        ref = parse(text)
        manifest = self.client.manifest(ref, creds)
        config = manifest.config
        diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
        if len(diff_ids) != len(manifest.layers):
            raise RegistryError("corrupt", f"{ref}: {len(manifest.layers)} layers but {len(diff_ids)} diff IDs")
        size = 0
        for layer, diff_id in zip(manifest.layers, diff_ids, strict=True):
            size += int(layer.get("size") or 0)
            self._ensure_layer(ref, layer["digest"], diff_id, creds)
        image_id = manifest.body["config"]["digest"]
        with self._lock:
            existing = self.find(image_id)
            record = existing or ImageRecord(id=image_id, layers=diff_ids, size=size, config=config)
            name_tag = str(Reference(ref.registry, ref.repository, ref.tag)) if ref.tag else ""
            name_digest = f"{ref.name}@{manifest.digest}"
            for other in self.records():  # a tag names one image: moved from any other
                if name_tag and name_tag in other.repo_tags and other.id != image_id:
                    other.repo_tags.remove(name_tag)
                    self._write(other)
            if name_tag and name_tag not in record.repo_tags:
                record.repo_tags.append(name_tag)
            if name_digest not in record.repo_digests:
                record.repo_digests.append(name_digest)
            self._write(record)
        return record

    def _ensure_layer(self, ref: Reference, digest: str, diff_id: str, creds: Credentials) -> None:
        with self._lock:
            layer_lock = self._layer_locks.setdefault(diff_id, threading.Lock())
        with layer_lock:  # two pulls sharing a layer: one unpacks, the other finds it done
            self._unpack_layer(ref, digest, diff_id, creds)

    def _unpack_layer(self, ref: Reference, digest: str, diff_id: str, creds: Credentials) -> None:
        target = self.layers / _hex(diff_id)
        if target.is_dir():
            return
        blob = self.blobs / _hex(digest)
        if not blob.is_file():
            self.client.blob(ref, digest, blob, creds)
        got = _diff_id(blob)
        if got != diff_id:
            blob.unlink(missing_ok=True)
            raise RegistryError("corrupt", f"layer {digest}: uncompressed it is {got}, the config says {diff_id}")
        staging = target.with_name(target.name + ".unpacking")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            unpack(blob, staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        staging.rename(target)
        blob.unlink(missing_ok=True)  # unpacked: the compressed copy is not needed again

    def _write(self, record: ImageRecord) -> None:
        path = self.images / f"{record.hex}.json"
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(asdict(record), indent=1))
        partial.replace(path)

    def remove(self, record: ImageRecord, in_use: set[str] | None = None) -> None:
        """Forget the image, then delete its layers that no remaining image (nor ``in_use``) needs."""
        with self._lock:
            (self.images / f"{record.hex}.json").unlink(missing_ok=True)
            needed = {d for r in self.records() for d in r.layers} | (in_use or set())
            for layer in record.layers:
                if layer not in needed:
                    shutil.rmtree(self.layers / _hex(layer), ignore_errors=True)

    def usage(self) -> tuple[int, int]:
        """Bytes (allocated to regular files) and inodes under the store, for ImageFsInfo, which the kubelet
        asks for every few seconds. Unpacked layers never change, so each is walked once; the
        rest (image records, containers' upper dirs) each time. Mounts below the store (a running
        container's merged root) are not entered: their files are the layers' and upper dirs'."""
        root_dev = self.root.stat().st_dev
        total, inodes = walk_usage(self.root, root_dev, skip=self.layers)
        present = set()
        with contextlib.suppress(FileNotFoundError), os.scandir(self.layers) as entries:
            for entry in entries:
                inodes += 1
                if entry.name.endswith(".unpacking"):
                    used = walk_usage(Path(entry.path), root_dev)  # still growing: not cached
                else:
                    present.add(entry.name)
                    used = self._layer_usage.get(entry.name) or walk_usage(Path(entry.path), root_dev)
                    self._layer_usage[entry.name] = used
                total, inodes = total + used[0], inodes + used[1]
        for gone in set(self._layer_usage) - present:
            del self._layer_usage[gone]
        return total, inodes
