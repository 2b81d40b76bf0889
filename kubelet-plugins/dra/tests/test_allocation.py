"""Exercise 9.3: which devices of a claim's allocation this node prepares, and what it refuses."""

from __future__ import annotations

import pytest

from kubelab_dra import DRIVER
from kubelab_dra.allocation import Allocated, AllocationError, ours

from .conftest import NODE, claim

HERE = {"accel-0", "accel-1", "accel-2"}


def result(device: str, request: str = "gpu", driver: str = DRIVER, pool: str = NODE) -> dict[str, str]:
    return {"request": request, "driver": driver, "pool": pool, "device": device}


def test_the_devices_of_this_driver_and_node() -> None:
    c = claim(results=[result("accel-1"), result("other-0", driver="gpu.example.com"), result("accel-2", "b")])
    assert ours(c, "uid-1", DRIVER, NODE, HERE) == [
        Allocated(("gpu",), NODE, "accel-1"),
        Allocated(("b",), NODE, "accel-2"),
    ]


def test_one_device_for_two_requests_is_prepared_once() -> None:
    c = claim(results=[result("accel-0", "a"), result("accel-0", "b")])
    assert ours(c, "uid-1", DRIVER, NODE, HERE) == [Allocated(("a", "b"), NODE, "accel-0")]


@pytest.mark.parametrize(
    ("the_claim", "uid", "message"),
    [
        (claim(uid="uid-2"), "uid-1", "has UID uid-2, the kubelet asked for uid-1: it was deleted and made again"),
        (claim(results=[]), "uid-1", "is not allocated"),
        (claim(results=[result("accel-9")]), "uid-1", "no device accel-9 on kubelab-worker"),
        (claim(results=[result("accel-0", pool="kubelab-worker2")]), "uid-1", "is of pool kubelab-worker2"),
        (claim(results=[result("x", driver="gpu.example.com")]), "uid-1", "has no device of dra.kubelab.dev"),
    ],
)
def test_refusals_name_the_claim_and_the_reason(the_claim: dict[str, object], uid: str, message: str) -> None:
    with pytest.raises(AllocationError, match="ResourceClaim lab/gpu") as info:
        ours(the_claim, uid, DRIVER, NODE, HERE)
    assert message in str(info.value)
