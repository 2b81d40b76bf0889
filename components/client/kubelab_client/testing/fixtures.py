"""pytest fixtures over the fake API server, for every package whose tests drive the cache layer.

Import them into a conftest or test module (``from kubelab_client.testing.fixtures import api,
fake, stop``); override ``fake`` to serve another resource (e.g. nodes). Needs pytest.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from kubelab_client.kube import Api
from kubelab_client.testing import FakeApiServer, client_for, running_fake


@pytest.fixture
def fake() -> Iterator[FakeApiServer]:
    """A fake API server serving ConfigMaps."""
    with running_fake() as server:
        yield server


@pytest.fixture
def api(fake: FakeApiServer) -> Iterator[Api]:
    """A client of ``fake`` (10 s timeout)."""
    with client_for(fake) as client:
        yield client


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    """An event set at teardown: pass it to informers and controllers so they stop with the test."""
    event = threading.Event()
    yield event
    event.set()
