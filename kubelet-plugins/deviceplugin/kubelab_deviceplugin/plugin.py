"""The plugin's life on a node: serve, register, watch; serve and register again when the kubelet restarts.

One round (:meth:`DevicePlugin.serve_once`): prepare each device's folder and the CDI spec,
serve ``v1beta1.DevicePlugin`` on ``<device-plugins>/<socket>``, register with the kubelet
(retrying until its socket answers), then every ``poll`` seconds reload the devices file and
check that the plugin's socket is still there and the kubelet's socket is still the one it
registered with. When either changed the round ends and the next one begins; on stop the
socket and the CDI spec go (the devices' folders stay: running containers mount them).
"""

from __future__ import annotations

import logging
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from kubelab_deviceplugin import cdi, kubelet
from kubelab_deviceplugin.inventory import Device, Inventory
from kubelab_deviceplugin.service import DevicePluginService
from kubelab_kit.errors import KubelabError
from kubelab_kit.files import atomic_write
from kubelab_kit.grpc import Server
from kubelab_protos.gen.deviceplugin.v1beta1 import api_pb2, api_pb2_grpc

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PluginConfig:
    resource: str
    devices_file: Path
    state_dir: Path = Path("/var/lib/kubelab-devices/state")
    cdi_dir: Path = cdi.DEFAULT_DIR
    plugins_dir: Path = kubelet.DEVICE_PLUGINS_DIR
    socket_name: str = ""
    poll: float = 0.5

    @property
    def socket(self) -> Path:
        return self.plugins_dir / (self.socket_name or self.resource.replace("/", "-") + ".sock")

    @property
    def kubelet_socket(self) -> Path:
        return self.plugins_dir / kubelet.KUBELET_SOCKET


class DevicePlugin:
    def __init__(self, config: PluginConfig) -> None:
        self.config = config
        self.inventory = Inventory(config.devices_file)
        self.service = DevicePluginService(config.resource, self.inventory, config.state_dir)
        self.rounds = 0
        self.registered = threading.Event()

    def run(self, stop: threading.Event) -> None:
        """Rounds until ``stop``; then the plugin's socket and CDI spec are gone."""
        try:
            while not stop.is_set():
                reason = self.serve_once(stop)
                log.info("%s: serving again and registering again", reason)
        finally:
            self.service.stopping.set()
            cdi.remove(self.config.cdi_dir, self.config.resource)

    def serve_once(self, stop: threading.Event) -> str:
        """One round; returns why it ended."""
        self.rounds += 1
        self.inventory.refresh()
        self.prepare(self.inventory.devices)
        server = Server(
            self.config.socket,
            [(api_pb2_grpc.add_DevicePluginServicer_to_server, self.service)],
            socket_mode=0o600,
            grace=1.0,
        )
        with server:
            kubelet_id = self.register(stop)
            if kubelet_id is None:
                return "stopping"
            while not stop.wait(self.config.poll):
                if self.inventory.refresh():
                    self.prepare(self.inventory.devices)
                if not self.config.socket.exists():
                    self.registered.clear()
                    return f"the plugin's socket {self.config.socket} vanished"
                if kubelet.identity(self.config.kubelet_socket) != kubelet_id:
                    self.registered.clear()
                    return f"the kubelet restarted ({self.config.kubelet_socket} is new)"
        return "stopping"

    def register(self, stop: threading.Event) -> tuple[int, int] | None:
        """Register with the kubelet, retrying every second; its socket's identity, None if stopped first."""
        options = api_pb2.DevicePluginOptions(pre_start_required=False, get_preferred_allocation_available=True)
        last = ""
        while not stop.is_set():
            kubelet_id = kubelet.identity(self.config.kubelet_socket)
            try:
                if kubelet_id is None:
                    raise kubelet.RegistrationRefusedError(f"no kubelet socket at {self.config.kubelet_socket} yet")
                kubelet.register(self.config.kubelet_socket, self.config.socket.name, self.config.resource, options)
            except KubelabError as exc:
                if str(exc) != last:
                    log.warning("not registered yet (retrying every second): %s", exc)
                    last = str(exc)
                stop.wait(1.0)
                continue
            log.info("registered %s with the kubelet (round %d)", self.config.resource, self.rounds)
            self.registered.set()
            return kubelet_id
        return None

    def prepare(self, devices: tuple[Device, ...]) -> None:
        """Each device's folder (mounted read-only into its containers) and the CDI spec of them all."""
        for device in devices:
            atomic_write(self.config.state_dir / device.id / "info", f"id={device.id}\nlink={device.link}\n")
        known = {d.id for d in devices}
        if self.config.state_dir.is_dir():
            for folder in self.config.state_dir.iterdir():
                if folder.is_dir() and folder.name not in known:
                    shutil.rmtree(folder, ignore_errors=True)
        cdi.write(self.config.cdi_dir, self.config.resource, devices)
