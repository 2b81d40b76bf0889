"""The devices file: seeding, and what a bad file is told."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelab_dra.devices import Device, DevicesError, parse, read, seed


def test_seed_cycles_models_in_link_groups(tmp_path: Path) -> None:
    path = tmp_path / "devices.json"
    assert seed(path, 4, ["lab-small", "lab-large"], 2)
    assert read(path) == (
        Device("accel-0", "lab-small", "link-0", "8Gi"),
        Device("accel-1", "lab-large", "link-0", "16Gi"),
        Device("accel-2", "lab-small", "link-1", "8Gi"),
        Device("accel-3", "lab-large", "link-1", "16Gi"),
    )
    assert not seed(path, 1, ["x"], 1)  # an existing file is left as it is
    assert read(path)[3].index == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "is not JSON"),
        ("{}", "has no list 'devices'"),
        ('{"devices": [{"name": "Bad_Name"}]}', "device 0 has no valid 'name'"),
        ('{"devices": [{"name": "a", "memory": "lots"}]}', "memory 'lots' is not a quantity"),
        ('{"devices": [{"name": "a"}, {"name": "a"}]}', "listed twice: a"),
    ],
)
def test_bad_files_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(DevicesError, match=message):
        parse(text)
