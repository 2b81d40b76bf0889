"""Checkpoint 19 (book 3.2): changing the storage version, migrating what is stored, trimming
``status.storedVersions``, and putting all of it back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_labkit import etcd
from kubelab_operator.api.resource import CRONJOB

from .operatorlab import (
    V1,
    V2,
    create,
    cronjob,
    get,
    migrate,
    set_storage_version,
    storage_versions,
    trim_stored_versions,
)

NAMES = ("stored-a", "stored-b", "stored-c")


def stored_as(kubectl: Kubectl, namespace: str) -> set[str]:
    """The apiVersions the lab's objects are written with in etcd."""
    return {
        etcd.stored_custom_object(kubectl, CRONJOB.group, CRONJOB.plural, namespace, name)["apiVersion"]
        for name in NAMES
    }


def migrate_to(kubectl: Kubectl, version: str, namespace: str) -> None:
    """The whole procedure: storage version, migration, stored versions trimmed; checked at each step."""
    set_storage_version(kubectl, version)
    storage, stored = storage_versions(kubectl)
    assert storage == version and version in stored and len(stored) == 2, (storage, stored)
    status = migrate(kubectl, f"cronjobs-to-{version}")
    conditions = {c["type"]: c for c in status.get("conditions") or []}
    assert conditions.get("Succeeded", {}).get("status") == "True", f"the migration did not succeed: {status}"
    assert stored_as(kubectl, namespace) == {f"{CRONJOB.group}/{version}"}, "etcd still holds the old version"
    trim_stored_versions(kubectl, [version])
    assert storage_versions(kubectl) == (version, [version])


@pytest.fixture
def put_back(kubectl: Kubectl, namespace: str) -> Iterator[None]:
    """Whatever happens, the lab leaves the CRD as generated: v1 stores, storedVersions [v1]."""
    yield
    if storage_versions(kubectl) != ("v1", ["v1"]):
        migrate_to(kubectl, "v1", namespace)


def test_19_storage_version_migration(kubectl: Kubectl, namespace: str, operator: str, put_back: None) -> None:
    """CronJobs stored as v1; v2 made the storage version (storedVersions [v1, v2]); a
    StorageVersionMigration rewrites each through the conversion webhook, so etcd holds v2; storedVersions
    trimmed to [v2]; the objects read the same through both versions; then the same way back to v1.

    Hint (3.2): `kubectl get crd cronjobs.batch.kubelab.dev -o jsonpath='{.status.storedVersions}'` and
    `kubectl get storageversionmigrations -o yaml` (its conditions say why it failed); each stored object
    passes through the operator's /convert, so a conversion that fails for it fails the migration.
    """
    assert storage_versions(kubectl) == ("v1", ["v1"]), "the lab starts from the generated CRD"
    schedules = {"stored-a": "*/5 * * * *", "stored-b": "@hourly", "stored-c": "0 3 * * 1-5"}
    for name in NAMES:
        got = create(kubectl, cronjob(name, namespace, operator, schedules[name], suspend=True))
        assert got.ok, got.err
    assert stored_as(kubectl, namespace) == {V1}
    before = {name: (get(kubectl, name, namespace, "v1") or {}).get("spec") for name in NAMES}

    migrate_to(kubectl, "v2", namespace)
    for name in NAMES:
        as_v1 = get(kubectl, name, namespace, "v1") or {}
        assert as_v1.get("spec") == before[name], f"{name} changed meaning when stored as v2"

    migrate_to(kubectl, "v1", namespace)
    assert stored_as(kubectl, namespace) == {V1}
    as_v2 = get(kubectl, "stored-b", namespace, "v2") or {}
    assert as_v2.get("apiVersion") == V2 and as_v2["spec"]["schedule"] == {"minute": "0"}
