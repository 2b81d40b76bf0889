"""The ``v1beta1.DevicePlugin`` service the kubelet's device manager calls.

- ``GetDevicePluginOptions``: a preferred allocation is available, no PreStartContainer.
- ``ListAndWatch``: the device list with each device's health, then again on every change of the
  inventory, for as long as the kubelet keeps the stream open.
- ``GetPreferredAllocation``: :func:`~kubelab_deviceplugin.allocation.preferred` per container.
- ``Allocate``: per container, the environment (``KUBELAB_ACCELERATORS``), a read-only mount of
  each device's folder and its CDI device; an unknown or unhealthy device is refused with
  INVALID_ARGUMENT or FAILED_PRECONDITION naming it, and nothing is handed out for the request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kubelab_deviceplugin import allocation, cdi
from kubelab_deviceplugin.inventory import Device, Inventory
from kubelab_kit.grpc import FailedPrecondition, InvalidArgument
from kubelab_protos.gen.deviceplugin.v1beta1 import api_pb2, api_pb2_grpc

log = logging.getLogger(__name__)

ENV = "KUBELAB_ACCELERATORS"
MOUNT_ROOT = "/var/run/kubelab/accelerators"
WATCH_TICK = 1.0  # how often an idle ListAndWatch stream checks that the kubelet still listens


def device_list(devices: tuple[Device, ...]) -> Any:
    return api_pb2.ListAndWatchResponse(devices=[api_pb2.Device(ID=d.id, health=d.health) for d in devices])


class DevicePluginService(api_pb2_grpc.DevicePluginServicer):  # type: ignore[misc,unused-ignore]  # Any until protos are generated
    def __init__(self, resource: str, inventory: Inventory, state_dir: Path) -> None:
        self.resource = resource
        self.inventory = inventory
        self.state_dir = state_dir
        self.stopping = threading.Event()

    def GetDevicePluginOptions(self, request: Any, context: Any) -> Any:
        return api_pb2.DevicePluginOptions(pre_start_required=False, get_preferred_allocation_available=True)

    def ListAndWatch(self, request: Any, context: Any) -> Iterator[Any]:
        generation, devices = self.inventory.snapshot()
        yield device_list(devices)
        while context.is_active() and not self.stopping.is_set():
            current, devices = self.inventory.wait_change(generation, WATCH_TICK)
            if current != generation:
                generation = current
                yield device_list(devices)

    def GetPreferredAllocation(self, request: Any, context: Any) -> Any:
        links = {d.id: d.link for d in self.inventory.devices}
        answers = []
        for req in request.container_requests:
            if req.allocation_size < len(req.must_include_deviceIDs):
                raise InvalidArgument(
                    f"allocation size {req.allocation_size} is smaller than the {len(req.must_include_deviceIDs)}"
                    " devices that must be included"
                )
            self._known(list(req.available_deviceIDs) + list(req.must_include_deviceIDs))
            ids = allocation.preferred(
                list(req.available_deviceIDs), list(req.must_include_deviceIDs), req.allocation_size, links
            )
            answers.append(api_pb2.ContainerPreferredAllocationResponse(deviceIDs=ids))
        return api_pb2.PreferredAllocationResponse(container_responses=answers)

    def Allocate(self, request: Any, context: Any) -> Any:
        if not request.container_requests:
            raise InvalidArgument("an AllocateRequest needs at least one container request")
        answers = []
        for req in request.container_requests:
            ids = list(req.devices_ids)
            if not ids:
                raise InvalidArgument("a container request names no device")
            for device in self._known(ids):
                if not device.healthy:
                    raise FailedPrecondition(f"device {device.id} of {self.resource} is unhealthy")
            answers.append(self.container_response(ids))
        return api_pb2.AllocateResponse(container_responses=answers)

    def container_response(self, ids: list[str]) -> Any:
        return api_pb2.ContainerAllocateResponse(
            envs={ENV: ",".join(ids)},
            mounts=[
                api_pb2.Mount(container_path=f"{MOUNT_ROOT}/{i}", host_path=str(self.state_dir / i), read_only=True)
                for i in ids
            ],
            cdi_devices=[api_pb2.CDIDevice(name=cdi.qualified(self.resource, i)) for i in ids],
        )

    def PreStartContainer(self, request: Any, context: Any) -> Any:
        return api_pb2.PreStartContainerResponse()

    def _known(self, ids: list[str]) -> list[Device]:
        found = {d.id: d for d in self.inventory.devices}
        unknown = [i for i in ids if i not in found]
        if unknown:
            raise InvalidArgument(
                f"unknown device {', '.join(unknown)} of {self.resource}: this node has {', '.join(found) or 'none'}"
            )
        return [found[i] for i in ids]
