"""Kubelet plugin registration (``pluginregistration.v1``): how CSI and DRA drivers announce themselves.

The kubelet's plugin watcher watches ``/var/lib/kubelet/plugins_registry``. When a socket
appears there (names starting with ``.`` are ignored) it calls ``Registration.GetInfo`` on
it, validates the answer with the handler of the plugin's type, registers the plugin, and
calls ``NotifyRegistrationStatus`` with the outcome. It keeps calling ``GetInfo`` to check the
plugin is alive; removing the socket deregisters the plugin. The plugin's own API (the CSI
Node service, the DRA service) is served on another socket, the ``endpoint`` it reports.

- :class:`RegistrationServicer` answers both calls and records the outcome: its
  :attr:`~RegistrationServicer.registered` event is set while the kubelet's last word was
  success, :attr:`~RegistrationServicer.error` holds its last rejection.
- :class:`PluginRegistrar` serves it on ``<registry_dir>/<name>-reg.sock`` with a
  :class:`~kubelab_kit.grpc.server.Server`.

Device plugins of ``deviceplugin/v1beta1`` register the other way round (the plugin calls the
kubelet's ``Registration.Register`` on ``kubelet.sock``); that is not this module.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from kubelab_kit.grpc.calls import CallMetrics
from kubelab_kit.grpc.errors import GrpcError
from kubelab_kit.grpc.server import Server
from kubelab_kit.grpc.socket import socket_path
from kubelab_protos.gen.pluginregistration.v1 import api_pb2, api_pb2_grpc

log = logging.getLogger(__name__)

REGISTRY_DIR = Path("/var/lib/kubelet/plugins_registry")
CSI_PLUGIN = "CSIPlugin"
DRA_PLUGIN = "DRAPlugin"
DEVICE_PLUGIN = "DevicePlugin"
PLUGIN_TYPES = frozenset({CSI_PLUGIN, DRA_PLUGIN, DEVICE_PLUGIN})
"""The plugin types the kubelet's plugin watcher has handlers for."""


class RegistrationTimeoutError(GrpcError):
    """The kubelet did not report the plugin registered in time."""


@dataclass(frozen=True)
class RegistrationStatus:
    """What the kubelet last reported, and when (``time.time()``)."""

    registered: bool
    error: str
    at: float


class RegistrationServicer:
    """The ``pluginregistration.Registration`` service of one plugin.

    ``GetInfo`` always returns the same ``PluginInfo``. ``NotifyRegistrationStatus`` records
    the status, logs it (INFO on success, ERROR with the kubelet's error otherwise), and sets
    or clears :attr:`registered`. Safe to call from grpc's worker threads concurrently.
    """

    def __init__(self, *, type: str, name: str, endpoint: str | os.PathLike[str], versions: Sequence[str]) -> None:
        if type not in PLUGIN_TYPES:
            raise GrpcError(
                f"unknown kubelet plugin type {type!r}",
                fix=f"use one the kubelet's plugin watcher handles: {', '.join(sorted(PLUGIN_TYPES))}",
            )
        if not name:
            raise GrpcError("a kubelet plugin needs a name", fix="name it after a DNS domain (gpu.kubelab.dev)")
        if not versions:
            raise GrpcError(f"plugin {name} lists no supported versions", fix="list at least one (v1.DRAPlugin, 1.0.0)")
        self.type = type
        self.name = name
        self.endpoint = str(socket_path(endpoint))
        self.versions = tuple(versions)
        self.registered = threading.Event()
        self._lock = threading.Lock()
        self._last: RegistrationStatus | None = None

    @property
    def last_status(self) -> RegistrationStatus | None:
        """The kubelet's last notification; None before the first."""
        with self._lock:
            return self._last

    @property
    def error(self) -> str | None:
        """The kubelet's error if its last notification was a rejection, else None."""
        last = self.last_status
        return last.error if last is not None and not last.registered else None

    def info(self) -> Any:
        """The ``PluginInfo`` ``GetInfo`` returns."""
        return api_pb2.PluginInfo(
            type=self.type, name=self.name, endpoint=self.endpoint, supported_versions=list(self.versions)
        )

    def GetInfo(self, request: Any, context: Any) -> Any:
        return self.info()

    def NotifyRegistrationStatus(self, request: Any, context: Any) -> Any:
        status = RegistrationStatus(bool(request.plugin_registered), str(request.error), time.time())
        with self._lock:
            self._last = status
            if status.registered:
                self.registered.set()
            else:
                self.registered.clear()
        if status.registered:
            log.info("the kubelet registered %s %s (endpoint %s)", self.type, self.name, self.endpoint)
        else:
            log.error("the kubelet rejected %s %s: %s", self.type, self.name, status.error or "(no error given)")
        return api_pb2.RegistrationStatusResponse()

    def wait_registered(self, timeout: float | None = None) -> None:
        """Return once the kubelet reported the plugin registered (at once if it already did).

        After ``timeout`` seconds raises :class:`RegistrationTimeoutError`, whose message carries
        the kubelet's last error if it rejected the plugin, or what to check if it never called.
        """
        if self.registered.wait(timeout):
            return
        last = self.last_status
        if last is None:
            problem = f"the kubelet did not ask for {self.type} {self.name} within {timeout:g}s"
            fix = (
                "is the kubelet running on this node, and is the registration socket in the directory its plugin"
                f" watcher watches? `journalctl -u kubelet | grep {self.name}` shows what it did"
            )
        else:
            problem = f"the kubelet did not register {self.type} {self.name} within {timeout:g}s: {last.error}"
            versions = ", ".join(self.versions)
            fix = f"fix what the kubelet reported (supported versions: {versions}; endpoint: {self.endpoint})"
        raise RegistrationTimeoutError(problem, fix=fix)


class PluginRegistrar:
    """Serves a plugin's registration on ``<registry_dir>/<socket_name>`` until stopped.

    ``socket_name`` defaults to ``<name>-reg.sock`` (the plugin watcher's convention; it must
    not start with ``.``). ``endpoint`` is the plugin's service socket as the kubelet sees it.
    Usable as a context manager; the socket is removed on stop, which the kubelet takes as the
    plugin's deregistration.
    """

    def __init__(
        self,
        *,
        type: str,
        name: str,
        endpoint: str | os.PathLike[str],
        versions: Sequence[str],
        registry_dir: str | os.PathLike[str] = REGISTRY_DIR,
        socket_name: str | None = None,
        socket_mode: int = 0o600,
        grace: float = 1.0,
        metrics: CallMetrics | None = None,
    ) -> None:
        self.servicer = RegistrationServicer(type=type, name=name, endpoint=endpoint, versions=versions)
        socket_name = socket_name or f"{name}-reg.sock"
        if socket_name.startswith(".") or "/" in socket_name:
            raise GrpcError(
                f"registration socket name {socket_name!r} would be ignored by the kubelet's plugin watcher",
                fix="use a plain file name that does not start with '.' (<name>-reg.sock)",
            )
        self.socket_path = Path(registry_dir) / socket_name
        self.server = Server(
            self.socket_path,
            [(api_pb2_grpc.add_RegistrationServicer_to_server, self.servicer)],
            max_workers=2,
            socket_mode=socket_mode,
            grace=grace,
            ok_level=logging.DEBUG,  # the kubelet polls GetInfo to check the plugin is alive
            metrics=metrics,
        )

    @property
    def registered(self) -> threading.Event:
        return self.servicer.registered

    @property
    def error(self) -> str | None:
        return self.servicer.error

    def wait_registered(self, timeout: float | None = None) -> None:
        self.servicer.wait_registered(timeout)

    def start(self) -> Self:
        self.server.start()
        return self

    def stop(self, grace: float | None = None) -> None:
        self.server.stop(grace)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
