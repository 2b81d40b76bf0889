"""The storage suite against both backends: SQLite in a file, and a real etcd (the toolchain's)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kubelab_apiserver.storage import Storage
from kubelab_apiserver.storage.backends import open_storage
from kubelab_client.testing.etcd import Etcd
from kubelab_cluster.pins import pins
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build

from .storage_suite import SCENARIOS, Scenario

_serial = itertools.count()


@pytest.fixture(scope="module")
def etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Etcd]:
    binary = Path(build(BY_NAME["etcd"], pins()).binaries["etcd"])
    with Etcd(binary, tmp_path_factory.mktemp("etcd")) as running:
        yield running


@pytest.fixture(params=["sqlite", "etcd"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'store.db'}"
    etcd: Etcd = request.getfixturevalue("etcd")
    return f"etcd://{etcd.endpoint}"


def run(url: str, body: Callable[[Storage], object]) -> None:
    async def main() -> None:
        storage = open_storage(url)
        try:
            await body(storage)  # type: ignore[misc]
        finally:
            await storage.close()

    asyncio.run(main())


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__ for s in SCENARIOS])
def test_contract(storage_url: str, scenario: Scenario) -> None:
    prefix = f"/registry/books.kubelab.dev/books/t{next(_serial)}-{scenario.__name__}/"
    run(storage_url, lambda s: scenario(s, prefix))


def test_state_survives_a_restart(storage_url: str) -> None:
    prefix = f"/registry/books.kubelab.dev/books/t{next(_serial)}-restart/"
    saved: dict[str, int] = {}

    async def write(s: Storage) -> None:
        made = await s.create(prefix + "a", {"metadata": {"name": "a"}, "spec": {"n": 1}})
        saved["rv"] = int(made["metadata"]["resourceVersion"])

    async def read(s: Storage) -> None:
        got = await s.get(prefix + "a")
        assert int(got["metadata"]["resourceVersion"]) == saved["rv"] and got["spec"] == {"n": 1}
        assert await s.revision() >= saved["rv"]
        made = await s.create(prefix + "b", {"metadata": {"name": "b"}})
        assert int(made["metadata"]["resourceVersion"]) > saved["rv"], "revisions go on after a restart"

    run(storage_url, write)
    run(storage_url, read)


def test_unknown_url() -> None:
    with pytest.raises(ValueError, match="expected one of"):
        open_storage("redis://x")
