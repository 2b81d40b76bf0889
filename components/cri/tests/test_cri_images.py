"""The image service against a real registry (a local docker-registry process): pulls of a
manifest and of an index, layers unpacked with whiteouts in overlayfs's form, the CRI's answers
over the socket, crictl as the referee, and bad input: each the right status, nothing kept."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from kubelab_cluster.pins import pins
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build
from kubelab_cri.images.reference import parse
from kubelab_cri.images.service import ImageService
from kubelab_cri.images.store import ImageStore
from kubelab_kit.grpc import Server, connect
from kubelab_protos.gen.cri.v1 import api_pb2, api_pb2_grpc

from .oci import Registry, layer, push_image, running_registry

LOWER = layer({"etc/": None, "etc/a": b"a", "etc/b": b"b", "dir/": None, "dir/x": b"x", "bin/": None, "bin/app": b"#!"})
UPPER = layer({"etc/.wh.b": b"", "dir/.wh..wh..opq": b"", "dir/y": b"y"})


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with running_registry(tmp_path_factory.mktemp("registry")) as reg:
        push_image(reg, "lab/app", "v1", [LOWER, UPPER], user="1000")
        push_image(reg, "lab/multi", "v1", [LOWER], as_index=True)
        push_image(reg, "lab/named", "v1", [LOWER], user="nobody")
        yield reg


@pytest.fixture
def store(tmp_path: Path) -> ImageStore:
    return ImageStore(tmp_path / "store")


@pytest.fixture
def socket(tmp_path: Path, store: ImageStore) -> Iterator[Path]:
    path = tmp_path / "run" / "cri.sock"
    with Server(path, [(api_pb2_grpc.add_ImageServiceServicer_to_server, ImageService(store))]):
        yield path


@pytest.fixture
def images(socket: Path) -> Iterator[api_pb2_grpc.ImageServiceStub]:
    with connect(socket) as channel:
        yield api_pb2_grpc.ImageServiceStub(channel)


def pull(images: api_pb2_grpc.ImageServiceStub, ref: str) -> str:
    response = images.PullImage(api_pb2.PullImageRequest(image=api_pb2.ImageSpec(image=ref)))
    return str(response.image_ref)


def code_of(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as err:
        call()  # type: ignore[operator]
    return err.value.code()  # type: ignore[no-any-return]


def test_references_as_docker_reads_them() -> None:
    assert str(parse("busybox")) == "docker.io/library/busybox:latest"
    assert str(parse("localhost:5001/kubelab/lab:abc")) == "localhost:5001/kubelab/lab:abc"
    assert parse("registry.k8s.io/pause:3.10.2").repository == "pause"
    digest = "sha256:" + "a" * 64
    assert parse(f"quay.io/x/y@{digest}").selector == digest
    with pytest.raises(ValueError, match="repository component 'Upper'"):
        parse("quay.io/Upper/y")


def test_pull_unpacks_layers_with_whiteouts_and_reports_the_image(
    images: api_pb2_grpc.ImageServiceStub, registry: Registry, store: ImageStore
) -> None:
    ref = f"{registry.host}/lab/app:v1"
    image_id = pull(images, ref)
    status = images.ImageStatus(api_pb2.ImageStatusRequest(image=api_pb2.ImageSpec(image=ref))).image
    assert status.id == image_id and list(status.repo_tags) == [ref]
    assert status.repo_digests[0].startswith(f"{registry.host}/lab/app@sha256:")
    assert status.uid.value == 1000 and status.size > 0
    lower, upper = reversed(store.layer_dirs(store.find(ref)))  # type: ignore[arg-type]
    assert (lower / "etc" / "b").read_bytes() == b"b"
    whiteout = os.lstat(upper / "etc" / "b")
    assert stat.S_ISCHR(whiteout.st_mode) and whiteout.st_rdev == os.makedev(0, 0)
    assert os.getxattr(upper / "dir", "trusted.overlay.opaque") == b"y"
    assert (upper / "dir" / "y").read_bytes() == b"y"
    assert not list(store.blobs.iterdir()), "compressed blobs are dropped once unpacked"
    assert pull(images, ref) == image_id  # a second pull: the same image, nothing new
    assert [i.id for i in images.ListImages(api_pb2.ListImagesRequest()).images] == [image_id]


def test_an_index_resolves_to_this_platform(images: api_pb2_grpc.ImageServiceStub, registry: Registry) -> None:
    image_id = pull(images, f"{registry.host}/lab/multi:v1")
    listed = images.ListImages(api_pb2.ListImagesRequest()).images
    assert [i.id for i in listed] == [image_id]


def test_a_named_user_is_reported_as_username(images: api_pb2_grpc.ImageServiceStub, registry: Registry) -> None:
    ref = f"{registry.host}/lab/named:v1"
    pull(images, ref)
    status = images.ImageStatus(api_pb2.ImageStatusRequest(image=api_pb2.ImageSpec(image=ref))).image
    assert status.username == "nobody" and not status.HasField("uid")


def test_bad_pulls_get_their_status_and_keep_nothing(
    images: api_pb2_grpc.ImageServiceStub, registry: Registry, store: ImageStore
) -> None:
    cases = {
        "quay.io/Bad/Name": grpc.StatusCode.INVALID_ARGUMENT,
        f"{registry.host}/lab/absent:v1": grpc.StatusCode.NOT_FOUND,
        "127.0.0.1:1/lab/app:v1": grpc.StatusCode.UNAVAILABLE,
    }
    got = {ref: code_of(lambda ref=ref: pull(images, ref)) for ref in cases}
    assert got == cases
    assert not store.records() and not list(store.layers.iterdir())


def test_a_blob_that_does_not_match_its_digest_is_data_loss(
    images: api_pb2_grpc.ImageServiceStub, tmp_path: Path, store: ImageStore
) -> None:
    with running_registry(tmp_path / "corrupt") as reg:
        push_image(reg, "lab/app", "v1", [LOWER])
        blobs = reg.storage / "docker" / "registry" / "v2" / "blobs" / "sha256"
        for data in blobs.glob("*/*/data"):
            if data.read_bytes()[:2] == b"\x1f\x8b":  # the layer
                data.write_bytes(data.read_bytes()[:-8] + b"corrupt!")
        assert code_of(lambda: pull(images, f"{reg.host}/lab/app:v1")) is grpc.StatusCode.DATA_LOSS
    assert not store.records() and not list(store.layers.iterdir()) and not list(store.blobs.iterdir())


def test_credentials_from_the_pull_request(
    images: api_pb2_grpc.ImageServiceStub, tmp_path: Path, store: ImageStore
) -> None:
    with running_registry(tmp_path / "private", auth=("student", "s3cret")) as reg:
        push_image(reg, "lab/private", "v1", [LOWER])
        ref = api_pb2.ImageSpec(image=f"{reg.host}/lab/private:v1")

        def pulled(auth: api_pb2.AuthConfig | None) -> grpc.StatusCode:
            try:
                images.PullImage(api_pb2.PullImageRequest(image=ref, auth=auth))
            except grpc.RpcError as exc:
                return exc.code()  # type: ignore[no-any-return]
            return grpc.StatusCode.OK

        assert pulled(None) is grpc.StatusCode.PERMISSION_DENIED
        assert pulled(api_pb2.AuthConfig(username="student", password="wrong")) is grpc.StatusCode.PERMISSION_DENIED
        assert not store.records() and not list(store.layers.iterdir())
        assert pulled(api_pb2.AuthConfig(username="student", password="s3cret")) is grpc.StatusCode.OK
        encoded = base64.b64encode(b"student:s3cret").decode()
        assert pulled(api_pb2.AuthConfig(auth=encoded)) is grpc.StatusCode.OK  # the kubelet's form


def test_image_status_of_an_absent_image_is_empty_and_remove_is_idempotent(
    images: api_pb2_grpc.ImageServiceStub, registry: Registry, store: ImageStore
) -> None:
    ref = f"{registry.host}/lab/app:v1"
    spec = api_pb2.ImageSpec(image=ref)
    assert not images.ImageStatus(api_pb2.ImageStatusRequest(image=spec)).HasField("image")
    pull(images, ref)
    pull(images, f"{registry.host}/lab/multi:v1")  # shares the lower layer
    images.RemoveImage(api_pb2.RemoveImageRequest(image=spec))
    images.RemoveImage(api_pb2.RemoveImageRequest(image=spec))  # already gone: fine
    assert not images.ImageStatus(api_pb2.ImageStatusRequest(image=spec)).HasField("image")
    assert len(list(store.layers.iterdir())) == 1, "the shared layer stays, the other goes"


def brute_usage(root: Path) -> tuple[int, int]:
    paths = list(root.rglob("*"))
    return sum(p.lstat().st_blocks * 512 for p in paths if p.is_file() and not p.is_symlink()), len(paths)


def test_image_fs_info_reports_the_store(
    images: api_pb2_grpc.ImageServiceStub, registry: Registry, store: ImageStore
) -> None:
    pull(images, f"{registry.host}/lab/app:v1")
    fs = images.ImageFsInfo(api_pb2.ImageFsInfoRequest()).image_filesystems[0]
    assert fs.fs_id.mountpoint == str(store.root) and fs.timestamp > 0
    assert (fs.used_bytes.value, fs.inodes_used.value) == brute_usage(store.root)
    extra = store.root / "containers" / "c1" / "upper" / "written"
    extra.parent.mkdir(parents=True)
    extra.write_bytes(b"x" * 5000)
    (extra.parent / "link").symlink_to(extra)
    fs = images.ImageFsInfo(api_pb2.ImageFsInfoRequest()).image_filesystems[0]  # the layers' sizes are cached now
    assert (fs.used_bytes.value, fs.inodes_used.value) == brute_usage(store.root)


def test_crictl_pulls_lists_and_removes(socket: Path, registry: Registry) -> None:
    crictl = build(BY_NAME["crictl"], pins()).binaries["crictl"]
    endpoint = f"unix://{socket}"
    base = [str(crictl), "--image-endpoint", endpoint, "--runtime-endpoint", endpoint, "--timeout", "30s"]

    def run(*args: str) -> str:
        return subprocess.run([*base, *args], capture_output=True, text=True, check=True, timeout=60).stdout

    ref = f"{registry.host}/lab/app:v1"
    assert "Image is up to date for sha256:" in run("pull", ref)
    listed = json.loads(run("images", "-o", "json"))["images"]
    assert [i["repoTags"] for i in listed] == [[ref]]
    run("rmi", ref)
    assert json.loads(run("images", "-o", "json"))["images"] == []
