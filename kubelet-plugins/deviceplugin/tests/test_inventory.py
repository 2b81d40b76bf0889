"""The devices file: what it accepts, what it refuses and says why, and what the plugin keeps of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelab_deviceplugin.inventory import Device, Inventory, InventoryError, parse, read, render, seed, set_health


def test_seed_writes_link_groups_once(tmp_path: Path) -> None:
    path = tmp_path / "devices.json"
    assert seed(path, 5, 2)
    assert [(d.id, d.link) for d in read(path)] == [(f"accel-{i}", f"link-{i // 2}") for i in range(5)]
    assert not seed(path, 1, 1)  # an existing file is the operator's: left alone
    assert len(read(path)) == 5


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("not json", "is not JSON"),
        ('{"devs": []}', "no list 'devices'"),
        ('{"devices": [{"link": "a"}]}', "no valid 'id'"),
        ('{"devices": [{"id": "Accel_0"}]}', "no valid 'id'"),
        ('{"devices": [{"id": "a", "healthy": "yes"}]}', "must be true or false"),
        ('{"devices": [{"id": "a"}, {"id": "a"}]}', "listed twice: a"),
    ],
)
def test_bad_files_are_refused_with_the_reason(text: str, says: str) -> None:
    with pytest.raises(InventoryError, match=says):
        parse(text)


def test_set_health_and_unknown_device(tmp_path: Path) -> None:
    path = tmp_path / "devices.json"
    seed(path, 2, 2)
    assert set_health(path, "accel-1", False)[1] == Device("accel-1", "link-0", False)
    assert not read(path)[1].healthy
    with pytest.raises(InventoryError, match="no device accel-9"):
        set_health(path, "accel-9", False)


def test_inventory_keeps_the_last_good_list_and_counts_changes(tmp_path: Path) -> None:
    path = tmp_path / "devices.json"
    inventory = Inventory(path)
    assert not inventory.refresh() and inventory.devices == ()  # no file: no devices
    seed(path, 2, 1)
    assert inventory.refresh()
    generation, devices = inventory.snapshot()
    assert [d.id for d in devices] == ["accel-0", "accel-1"]
    path.write_text("{broken")
    assert not inventory.refresh() and inventory.devices == devices  # a broken edit keeps what worked
    path.write_text(render([Device("accel-0", "link-0", False)]))
    assert inventory.refresh()
    assert inventory.wait_change(generation, 0.01)[1] == (Device("accel-0", "link-0", False),)
    path.unlink()
    assert inventory.refresh() and inventory.devices == ()
