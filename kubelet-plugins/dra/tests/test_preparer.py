"""Prepare and unprepare: the CDI spec per claim, the checkpoint, idempotence, and what a restart finds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubelab_dra import CDI_KIND
from kubelab_dra.allocation import AllocationError
from kubelab_dra.checkpoint import Checkpoint
from kubelab_dra.preparer import Preparer
from kubelab_kit import cdi

from .conftest import DEVICES, NODE, claim


def preparer(tmp_path: Path) -> Preparer:
    return Preparer(NODE, DEVICES, Checkpoint(tmp_path / "state" / "checkpoint.json"), tmp_path / "cdi")


def test_prepare_writes_the_claims_cdi_spec_then_the_checkpoint(tmp_path: Path) -> None:
    p = preparer(tmp_path)
    done = p.prepare(claim(), "uid-1")
    assert [(d.request, d.pool, d.device, d.cdi) for d in done.devices] == [
        ("gpu", NODE, "accel-1", [f"{CDI_KIND}=uid-1-accel-1"])
    ]
    spec = json.loads(cdi.spec_path(tmp_path / "cdi", CDI_KIND, "uid-1").read_text())
    assert spec["kind"] == CDI_KIND and [d["name"] for d in spec["devices"]] == ["uid-1-accel-1"]
    edits = spec["devices"][0]["containerEdits"]
    assert edits["env"] == [
        "KUBELAB_DRA_ACCEL_1=kubelab-worker/accel-1 model=lab-large link=link-0 memory=16Gi claim=lab/gpu"
    ]
    assert edits["deviceNodes"] == [{"path": "/dev/kubelab-dra/accel-1", "hostPath": "/dev/null", "permissions": "rw"}]
    on_disk = json.loads((tmp_path / "state" / "checkpoint.json").read_text())
    assert on_disk["claims"]["uid-1"]["name"] == "gpu"


def test_prepare_twice_answers_from_the_checkpoint(tmp_path: Path) -> None:
    p = preparer(tmp_path)
    first = p.prepare(claim(), "uid-1")
    assert p.prepare({"metadata": {}}, "uid-1") == first  # not read again


def test_a_refused_claim_leaves_nothing(tmp_path: Path) -> None:
    p = preparer(tmp_path)
    with pytest.raises(AllocationError):
        p.prepare(claim(uid="uid-2"), "uid-1")
    assert p.checkpoint.uids() == [] and cdi.suffixes(tmp_path / "cdi", CDI_KIND) == []


def test_unprepare_removes_both_and_is_idempotent(tmp_path: Path) -> None:
    p = preparer(tmp_path)
    p.prepare(claim(), "uid-1")
    assert p.unprepare("uid-1") is True
    assert p.checkpoint.uids() == [] and cdi.suffixes(tmp_path / "cdi", CDI_KIND) == []
    assert p.unprepare("uid-1") is False  # the kubelet may ask again


def test_a_restarted_driver_keeps_prepared_claims_and_drops_stray_specs(tmp_path: Path) -> None:
    p = preparer(tmp_path)
    p.prepare(claim(), "uid-1")
    cdi.write(tmp_path / "cdi", CDI_KIND, [], suffix="uid-crashed")  # written, then the driver died
    again = preparer(tmp_path)
    assert again.checkpoint.uids() == ["uid-1"]
    assert again.collect() == ["uid-crashed"]
    assert cdi.suffixes(tmp_path / "cdi", CDI_KIND) == ["uid-1"]
    assert again.unprepare("uid-1") is True
