"""Claims as the scheduler leaves them, and a stand-in for the API server the driver fetches them from."""

from __future__ import annotations

from typing import Any

import pytest

from kubelab_client.errors import ClientError
from kubelab_dra import DRIVER
from kubelab_dra.devices import Device

NODE = "kubelab-worker"
DEVICES = (
    Device("accel-0", "lab-small", "link-0", "8Gi"),
    Device("accel-1", "lab-large", "link-0", "16Gi"),
    Device("accel-2", "lab-small", "link-1", "8Gi"),
)


def claim(
    uid: str = "uid-1", results: list[dict[str, Any]] | None = None, name: str = "gpu", namespace: str = "lab"
) -> dict[str, Any]:
    if results is None:
        results = [{"request": "gpu", "driver": DRIVER, "pool": NODE, "device": "accel-1"}]
    status = {"allocation": {"devices": {"results": results}}} if results else {}
    return {"metadata": {"name": name, "namespace": namespace, "uid": uid}, "status": status}


class FakeApi:
    """``get`` of the claims it holds by namespace/name; ClientError (as the real client's 404) otherwise."""

    def __init__(self, *claims: dict[str, Any]) -> None:
        self.claims = {f"{c['metadata']['namespace']}/{c['metadata']['name']}": c for c in claims}
        self.gets: list[str] = []

    def get(self, resource: Any, name: str, namespace: str | None = None) -> dict[str, Any]:
        key = f"{namespace}/{name}"
        self.gets.append(key)
        if key not in self.claims:
            raise ClientError(f'resourceclaims.resource.k8s.io "{name}" not found (404 NotFound)')
        return self.claims[key]


@pytest.fixture
def fake_api() -> FakeApi:
    return FakeApi(claim())
