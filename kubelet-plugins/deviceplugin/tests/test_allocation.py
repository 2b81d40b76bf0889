"""The preferred allocation (exercise 9.2): a container's devices in as few link groups as possible."""

from __future__ import annotations

from kubelab_deviceplugin.allocation import natural, preferred

LINKS = {f"accel-{i}": f"link-{i // 2}" for i in range(6)} | {
    "accel-6": "link-3",
    "accel-7": "link-3",
    "accel-8": "link-3",
}
ALL = sorted(LINKS, key=natural)


def test_two_devices_come_from_one_group() -> None:
    assert preferred(ALL, [], 2, LINKS) == ["accel-0", "accel-1"]


def test_a_whole_free_group_beats_halves_of_two() -> None:
    available = ["accel-1", "accel-2", "accel-3", "accel-5"]  # link-0 and link-2 have one left, link-1 two
    assert preferred(available, [], 2, LINKS) == ["accel-2", "accel-3"]


def test_must_include_pulls_in_its_group_first() -> None:
    assert preferred(ALL, ["accel-5"], 2, LINKS) == ["accel-4", "accel-5"]


def test_best_fit_leaves_the_big_group_whole() -> None:
    # one device: the smallest group that holds it (a two-device group), not the three-device link-3
    available = ["accel-4", "accel-5", "accel-6", "accel-7", "accel-8"]
    assert preferred(available, [], 1, LINKS) == ["accel-4"]
    assert preferred(available, [], 3, LINKS) == ["accel-6", "accel-7", "accel-8"]


def test_spills_over_largest_groups_when_none_fits() -> None:
    available = ["accel-0", "accel-2", "accel-3", "accel-6", "accel-7", "accel-8"]
    assert preferred(available, [], 5, LINKS) == ["accel-2", "accel-3", "accel-6", "accel-7", "accel-8"]


def test_natural_order() -> None:
    assert sorted(["accel-10", "accel-2", "accel-1"], key=natural) == ["accel-1", "accel-2", "accel-10"]
