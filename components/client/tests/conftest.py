from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from kubelab_client.kube import Api
from kubelab_client.testing import FakeApiServer


@pytest.fixture
def fake() -> Iterator[FakeApiServer]:
    with FakeApiServer() as server:
        yield server


@pytest.fixture
def api(fake: FakeApiServer) -> Iterator[Api]:
    client = Api.for_host(fake.url)
    client.timeout = 10.0
    yield client
    client.close()


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()
