"""The driver's life on a node: publish the ResourceSlice, serve DRA v1, register with the kubelet.

:meth:`Driver.run` first removes stray CDI specs (:meth:`~kubelab_dra.preparer.Preparer.collect`),
then keeps three things going until stopped: the slice publisher (its own thread, the informer),
the DRA service on ``<plugins>/dra.kubelab.dev/dra.sock`` and the registration socket
``<registry>/dra.kubelab.dev-reg.sock`` the kubelet's plugin watcher finds (``DRAPlugin``,
versions ``v1.DRAPlugin``). When either socket vanishes, both are served again, so the kubelet
registers the driver again. A restarted kubelet finds the registration socket by itself.
Prepared claims live in the checkpoint file: a restarted driver answers and unprepares them.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from kubelab_client.kube import Api
from kubelab_dra import DRIVER
from kubelab_dra.checkpoint import Checkpoint
from kubelab_dra.devices import read
from kubelab_dra.preparer import Preparer
from kubelab_dra.service import DraService
from kubelab_dra.slices import SlicePublisher
from kubelab_kit.cdi import DEFAULT_DIR
from kubelab_kit.grpc import Server
from kubelab_kit.grpc.registration import DRA_PLUGIN, REGISTRY_DIR, PluginRegistrar
from kubelab_protos.gen.dra.v1 import api_pb2_grpc

log = logging.getLogger(__name__)
VERSIONS = ["v1.DRAPlugin"]


@dataclass(frozen=True)
class DriverConfig:
    node: str
    devices_file: Path
    checkpoint_file: Path
    cdi_dir: Path = DEFAULT_DIR
    plugins_dir: Path = Path("/var/lib/kubelet/plugins")
    registry_dir: Path = REGISTRY_DIR
    poll: float = 0.5

    @property
    def socket(self) -> Path:
        return self.plugins_dir / DRIVER / "dra.sock"


class Driver:
    def __init__(self, config: DriverConfig, api: Api) -> None:
        self.config = config
        devices = read(config.devices_file)
        self.preparer = Preparer(config.node, devices, Checkpoint(config.checkpoint_file), config.cdi_dir)
        self.service = DraService(api, self.preparer)
        self.publisher = SlicePublisher(api, config.node, devices)
        self.rounds = 0
        self.registered = threading.Event()

    def run(self, stop: threading.Event) -> None:
        self.preparer.collect()
        publisher = threading.Thread(target=self.publisher.run, args=(stop,), name="slices", daemon=True)
        publisher.start()
        try:
            while not stop.is_set():
                log.info("%s: serving again", self.serve_once(stop))
        finally:
            publisher.join(timeout=5)

    def serve_once(self, stop: threading.Event) -> str:
        """Serve both sockets until one vanishes or ``stop``; returns why the round ended."""
        self.rounds += 1
        self.config.socket.parent.mkdir(parents=True, exist_ok=True)
        server = Server(self.config.socket, [(api_pb2_grpc.add_DRAPluginServicer_to_server, self.service)],
                        socket_mode=0o600, grace=1.0)  # fmt: skip
        registrar = PluginRegistrar(type=DRA_PLUGIN, name=DRIVER, endpoint=self.config.socket, versions=VERSIONS,
                                    registry_dir=self.config.registry_dir)  # fmt: skip
        self.registered = registrar.registered
        with server, registrar:
            log.info("serving %s on %s, registration on %s (round %d)", DRIVER, self.config.socket,
                     registrar.socket_path, self.rounds)  # fmt: skip
            while not stop.wait(self.config.poll):
                for path in (self.config.socket, registrar.socket_path):
                    if not path.exists():
                        return f"the socket {path} vanished"
        return "stopping"
