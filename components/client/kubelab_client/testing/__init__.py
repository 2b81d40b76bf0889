"""Test support: a fake API server (stdlib only) for exercising the cache layer without a cluster."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kubelab_client.backoff import Backoff
from kubelab_client.kube import Api
from kubelab_client.reflector import ReflectorOptions
from kubelab_client.resources import Resource
from kubelab_client.testing.fake_apiserver import FakeApiServer, Fault, RequestRecord

__all__ = ["FakeApiServer", "Fault", "RequestRecord", "client_for", "fast_reflector_options", "running_fake"]


@contextmanager
def running_fake(*args: Resource, **kwargs: Any) -> Iterator[FakeApiServer]:
    """A :class:`FakeApiServer` serving for the duration of the block (arguments as its constructor's)."""
    with FakeApiServer(*args, **kwargs) as server:
        yield server


@contextmanager
def client_for(server: FakeApiServer, timeout: float = 10.0) -> Iterator[Api]:
    """An :class:`Api` client pointed at ``server``, closed after the block."""
    client = Api.for_host(server.url)
    client.timeout = timeout
    try:
        yield client
    finally:
        client.close()


def fast_reflector_options(**overrides: Any) -> ReflectorOptions:
    """Reflector options for tests: a small backoff without jitter (20 ms doubling to 0.5 s), a
    seeded RNG, pages of 50 and 30 s watches, so timings can be asserted."""
    options = ReflectorOptions(
        page_size=50,
        watch_timeout=(30.0, 30.0),
        read_timeout_grace=5.0,
        backoff=lambda: Backoff(initial=0.02, cap=0.5, factor=2.0, jitter=0.0),
        rng=random.Random(7),
    )
    for key, value in overrides.items():
        if not hasattr(options, key):
            raise TypeError(f"ReflectorOptions has no {key!r}")
        setattr(options, key, value)
    return options
