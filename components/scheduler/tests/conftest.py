"""The scheduler under test, running in this process against each module's ``api`` (a real API
server with that module's nodes); a module changes its configuration by overriding
``scheduler_config``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kubelab_client.kube import Api
from kubelab_scheduler.config import SchedulerConfiguration
from kubelab_scheduler.scheduler import Scheduler

from .cluster import running


@pytest.fixture(scope="module")
def scheduler_config() -> SchedulerConfiguration:
    return SchedulerConfiguration()


@pytest.fixture(scope="module")
def scheduler(api: Api, scheduler_config: SchedulerConfiguration) -> Iterator[Scheduler]:
    with running(api, scheduler_config) as sched:
        yield sched
