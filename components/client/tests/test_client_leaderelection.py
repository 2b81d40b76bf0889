"""Leader election on a Lease, against the fake API server, with a fake clock: one leader at a time,
a standby takes an expired Lease (by its own observation, not the servers' clocks) or a released one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kubelab_client.errors import ApiError
from kubelab_client.kube import Api
from kubelab_client.leaderelection import LEASES, ElectionConfig, LeaderElector
from kubelab_client.testing import client_for, running_fake


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def api() -> Iterator[Api]:
    with running_fake(LEASES) as server, client_for(server) as client:
        yield client


def elector(api: Api, identity: str, clock: Clock) -> LeaderElector:
    config = ElectionConfig("ns", "leader", identity, lease_duration=10, renew_deadline=8, retry_period=2)
    return LeaderElector(api, config, clock=clock)


def test_first_candidate_creates_and_holds(api: Api) -> None:
    clock = Clock()
    a, b = elector(api, "a", clock), elector(api, "b", clock)
    assert a.try_acquire_or_renew() is True
    assert b.try_acquire_or_renew() is False and b.holder() == "a"
    lease = api.get(LEASES, "leader", "ns")["spec"]
    assert lease["holderIdentity"] == "a" and lease["leaseDurationSeconds"] == 10 and lease["leaseTransitions"] == 0


def test_renewal_keeps_it_and_expiry_hands_it_over(api: Api) -> None:
    clock = Clock()
    a, b = elector(api, "a", clock), elector(api, "b", clock)
    assert a.try_acquire_or_renew()
    assert not b.try_acquire_or_renew()
    clock.now += 6
    assert a.try_acquire_or_renew()  # renewed: b sees a new record and restarts its count
    clock.now += 6
    assert not b.try_acquire_or_renew()
    clock.now += 11  # a stopped renewing 11 s ago, as b observed it
    assert b.try_acquire_or_renew()
    lease = api.get(LEASES, "leader", "ns")["spec"]
    assert lease["holderIdentity"] == "b" and lease["leaseTransitions"] == 1
    assert not a.try_acquire_or_renew()  # the old leader finds out


def test_release_lets_the_standby_in_at_once(api: Api) -> None:
    clock = Clock()
    a, b = elector(api, "a", clock), elector(api, "b", clock)
    assert a.try_acquire_or_renew()
    a._leading.set()
    a.release()
    assert api.get(LEASES, "leader", "ns")["spec"].get("holderIdentity") is None
    assert b.try_acquire_or_renew()


def test_stale_resource_version_loses(api: Api) -> None:
    clock = Clock()
    a, b = elector(api, "a", clock), elector(api, "b", clock)
    assert a.try_acquire_or_renew()
    assert not b.try_acquire_or_renew()  # b's first sight of the record starts its count
    clock.now += 11
    stale = api.get(LEASES, "leader", "ns")
    assert b.try_acquire_or_renew()  # b takes it ...
    stale["spec"]["holderIdentity"] = "c"
    with pytest.raises(ApiError) as err:  # ... and a write from the old resourceVersion is a 409
        api.replace(LEASES, stale)
    assert err.value.is_conflict


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="lease_duration > renew_deadline > retry_period"):
        ElectionConfig("ns", "x", "me", lease_duration=5, renew_deadline=5, retry_period=1)
