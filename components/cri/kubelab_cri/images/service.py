"""The ``runtime.v1.ImageService`` servicer over the image store (book 4.3).

The CRI's rules: ImageStatus of an image that is not here is an empty answer (not an error);
RemoveImage of an image that is gone succeeds (idempotent); PullImage answers the image's ID.
A pull's failure is the status its cause calls for: a bad reference INVALID_ARGUMENT, no such
image NOT_FOUND, refused credentials PERMISSION_DENIED, an unreachable registry UNAVAILABLE,
content that does not match its digest DATA_LOSS; the store keeps nothing of a failed pull.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc

from kubelab_cri.images.reference import ReferenceError
from kubelab_cri.images.registry import Credentials, RegistryError
from kubelab_cri.images.store import ImageRecord, ImageStore
from kubelab_cri.images.unpack import LayerError
from kubelab_kit.grpc import GrpcStatusError, InvalidArgument
from kubelab_protos.gen.cri.v1 import api_pb2, api_pb2_grpc

CODES = {
    "not-found": grpc.StatusCode.NOT_FOUND,
    "unauthorized": grpc.StatusCode.PERMISSION_DENIED,
    "unreachable": grpc.StatusCode.UNAVAILABLE,
    "corrupt": grpc.StatusCode.DATA_LOSS,
    "unsupported": grpc.StatusCode.FAILED_PRECONDITION,
}


def image_message(record: ImageRecord) -> api_pb2.Image:
    user = str((record.config.get("config") or {}).get("User") or "").split(":", 1)[0]
    uid = api_pb2.Int64Value(value=int(user)) if user.isdigit() else None
    return api_pb2.Image(
        id=record.id,
        repo_tags=record.repo_tags,
        repo_digests=record.repo_digests,
        size=record.size,
        uid=uid,
        username="" if user.isdigit() else user,
        spec=api_pb2.ImageSpec(image=record.id),
    )


class ImageService(api_pb2_grpc.ImageServiceServicer):  # type: ignore[misc,unused-ignore]  # Any until protos are generated
    def __init__(self, store: ImageStore, in_use: Callable[[], set[str]] = set) -> None:
        self.store = store
        self.in_use = in_use  # image IDs containers use: never removed under them

    def ListImages(
        self, request: api_pb2.ListImagesRequest, context: grpc.ServicerContext
    ) -> api_pb2.ListImagesResponse:
        wanted = request.filter.image.image if request.HasField("filter") else ""
        if wanted:
            found = self.store.find(wanted)
            return api_pb2.ListImagesResponse(images=[image_message(found)] if found else [])
        return api_pb2.ListImagesResponse(images=[image_message(r) for r in self.store.records()])

    def ImageStatus(
        self, request: api_pb2.ImageStatusRequest, context: grpc.ServicerContext
    ) -> api_pb2.ImageStatusResponse:
        if not request.image.image:
            raise InvalidArgument("ImageStatus: image.image is empty")
        found = self.store.find(request.image.image)
        return api_pb2.ImageStatusResponse(image=image_message(found)) if found else api_pb2.ImageStatusResponse()

    def PullImage(self, request: api_pb2.PullImageRequest, context: grpc.ServicerContext) -> api_pb2.PullImageResponse:
        auth = request.auth
        try:
            creds = Credentials.from_auth(auth.username, auth.password, auth.auth, auth.registry_token)
            record = self.store.pull(request.image.image, creds)
        except ReferenceError as exc:
            raise InvalidArgument(f"PullImage: {exc}") from exc
        except RegistryError as exc:
            raise GrpcStatusError(f"PullImage {request.image.image}: {exc}", code=CODES[exc.kind]) from exc
        except LayerError as exc:
            raise GrpcStatusError(f"PullImage {request.image.image}: {exc}", code=grpc.StatusCode.DATA_LOSS) from exc
        return api_pb2.PullImageResponse(image_ref=record.id)

    def RemoveImage(
        self, request: api_pb2.RemoveImageRequest, context: grpc.ServicerContext
    ) -> api_pb2.RemoveImageResponse:
        found = self.store.find(request.image.image)
        if found is None:
            return api_pb2.RemoveImageResponse()  # already gone: idempotent
        if found.id in self.in_use():
            raise GrpcStatusError(
                f"RemoveImage {request.image.image}: image {found.id} is used by a container",
                code=grpc.StatusCode.FAILED_PRECONDITION,
            )
        self.store.remove(found)
        return api_pb2.RemoveImageResponse()

    def ImageFsInfo(
        self, request: api_pb2.ImageFsInfoRequest, context: grpc.ServicerContext
    ) -> api_pb2.ImageFsInfoResponse:
        used, inodes = self.store.usage()
        usage = api_pb2.FilesystemUsage(
            timestamp=time.time_ns(),
            fs_id=api_pb2.FilesystemIdentifier(mountpoint=str(self.store.root)),
            used_bytes=api_pb2.UInt64Value(value=used),
            inodes_used=api_pb2.UInt64Value(value=inodes),
        )
        return api_pb2.ImageFsInfoResponse(image_filesystems=[usage], container_filesystems=[usage])
