"""The DRA v1 gRPC service (``k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin``) the kubelet calls.

``NodePrepareResources`` answers per claim UID: the prepared devices (request names, pool,
device, CDI device IDs), or an ``error`` string the kubelet puts in the pod's events and retries.
The claim is fetched from the API server (the kubelet sends only namespace, name and UID),
unless the checkpoint already holds it. ``NodeUnprepareResources`` answers per claim too. A
request without claims, or a claim without a UID, is refused as a whole with INVALID_ARGUMENT.
"""

from __future__ import annotations

import logging
from typing import Any

import grpc

from kubelab_client.kube import Api
from kubelab_client.resources import Resource
from kubelab_dra.checkpoint import PreparedClaim
from kubelab_dra.preparer import Preparer
from kubelab_kit.errors import KubelabError
from kubelab_protos.gen.dra.v1 import api_pb2, api_pb2_grpc

RESOURCE_CLAIMS = Resource("resource.k8s.io", "v1", "resourceclaims", "ResourceClaim")
log = logging.getLogger(__name__)


def _check(request: Any, context: Any) -> None:
    if not request.claims:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "no claims in the request")
    for claim in request.claims:
        if not claim.uid or not claim.name or not claim.namespace:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"claim {claim.namespace!r}/{claim.name!r} (uid {claim.uid!r}): namespace, name and uid are required",
            )


def answer(prepared: PreparedClaim) -> Any:
    return api_pb2.NodePrepareResourceResponse(
        devices=[
            api_pb2.Device(
                request_names=d.request.split(","), pool_name=d.pool, device_name=d.device, cdi_device_ids=d.cdi
            )
            for d in prepared.devices
        ]
    )


class DraService(api_pb2_grpc.DRAPluginServicer):  # type: ignore[misc,unused-ignore]  # Any until protos are generated
    def __init__(self, api: Api, preparer: Preparer) -> None:
        self.api, self.preparer = api, preparer

    def NodePrepareResources(self, request: Any, context: Any) -> Any:
        _check(request, context)
        response = api_pb2.NodePrepareResourcesResponse()
        for claim in request.claims:
            try:
                prepared = self.preparer.checkpoint.get(claim.uid)
                if prepared is None:
                    obj = self.api.get(RESOURCE_CLAIMS, claim.name, claim.namespace)
                    prepared = self.preparer.prepare(obj, claim.uid)
                response.claims[claim.uid].CopyFrom(answer(prepared))
            except (KubelabError, OSError) as exc:
                log.warning("ResourceClaim %s/%s (%s) not prepared: %s", claim.namespace, claim.name, claim.uid, exc)
                response.claims[claim.uid].error = f"ResourceClaim {claim.namespace}/{claim.name}: {exc}"
        return response

    def NodeUnprepareResources(self, request: Any, context: Any) -> Any:
        _check(request, context)
        response = api_pb2.NodeUnprepareResourcesResponse()
        for claim in request.claims:
            try:
                self.preparer.unprepare(claim.uid)
                response.claims[claim.uid].SetInParent()
            except OSError as exc:
                response.claims[claim.uid].error = f"ResourceClaim {claim.namespace}/{claim.name}: {exc}"
        return response
