"""One driver process: the pool opened, the three services on one socket."""

from __future__ import annotations

import logging
from pathlib import Path

from kubelab_csi.config import DriverConfig
from kubelab_csi.errors import StorageError
from kubelab_csi.services.controller import Controller
from kubelab_csi.services.identity import Identity
from kubelab_csi.services.node import Node
from kubelab_csi.storage.pool import Pool
from kubelab_csi.storage.volumes import Volumes
from kubelab_kit.grpc import Server
from kubelab_protos.gen.csi.v1 import csi_pb2_grpc

log = logging.getLogger(__name__)


def pool_ready(pool: Pool) -> bool:
    try:
        pool.space()
    except (OSError, StorageError):
        return False
    return pool.volumes_dir.is_dir()


def server(endpoint: str | Path, config: DriverConfig, pool: Pool, *, max_workers: int = 8) -> Server:
    """The driver's gRPC server on ``endpoint`` (not started); ``pool`` must be open."""
    volumes = Volumes(pool, config.node_id)
    return Server(
        endpoint,
        [
            (csi_pb2_grpc.add_IdentityServicer_to_server, Identity(config, ready=lambda: pool_ready(pool))),
            (csi_pb2_grpc.add_ControllerServicer_to_server, Controller(config, volumes)),
            (csi_pb2_grpc.add_NodeServicer_to_server, Node(config, volumes)),
        ],
        max_workers=max_workers,
        socket_mode=0o660,
    )
