from __future__ import annotations

import pytest

from kubelab_kit.capabilities import CAP_SYS_RESOURCE, CAPABILITY_NAMES, cap_name, parse_status

# The Cap* lines of this project's build host (bit 24, CAP_SYS_RESOURCE, missing everywhere).
RESTRICTED = """\
Name:\tpython3
State:\tR (running)
CapInh:\t0000000000000000
CapPrm:\t000001fffeffffff
CapEff:\t000001fffeffffff
CapBnd:\t000001fffeffffff
CapAmb:\t0000000000000000
NoNewPrivs:\t0
"""

FULL = RESTRICTED.replace("000001fffeffffff", "000001ffffffffff")


def test_sys_resource_is_bit_24() -> None:
    assert CAP_SYS_RESOURCE == 24
    assert cap_name(24) == "CAP_SYS_RESOURCE"
    assert cap_name(40) == "CAP_CHECKPOINT_RESTORE"
    assert cap_name(63) == "CAP_63"
    assert len(CAPABILITY_NAMES) == 41


def test_parse_restricted_host() -> None:
    caps = parse_status(RESTRICTED)
    assert caps.bounding == 0x1FFFEFFFFFF
    assert caps.inheritable == 0 and caps.ambient == 0
    assert not caps.has(CAP_SYS_RESOURCE)
    assert caps.has(CAP_SYS_RESOURCE - 1)
    assert caps.missing_from_bounding(last_cap=40) == ["CAP_SYS_RESOURCE"]


def test_parse_full_host() -> None:
    caps = parse_status(FULL)
    assert caps.missing_from_bounding(last_cap=40) == []
    assert caps.has(CAP_SYS_RESOURCE, "effective")


def test_only_caps_the_kernel_knows_count() -> None:
    # An older kernel (cap_last_cap = 37) has no bits 38..40: they are not "missing".
    caps = parse_status(FULL.replace("000001ffffffffff", "0000003fffffffff"))
    assert caps.missing_from_bounding(last_cap=37) == []
    assert caps.missing_from_bounding(last_cap=40) == ["CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"]


def test_several_missing() -> None:
    mask = 0x1FFFFFFFFFF & ~(1 << 24) & ~(1 << 16)  # no SYS_RESOURCE, no SYS_MODULE
    caps = parse_status(FULL.replace("CapBnd:\t000001ffffffffff", f"CapBnd:\t{mask:016x}"))
    assert caps.missing_from_bounding(last_cap=40) == ["CAP_SYS_MODULE", "CAP_SYS_RESOURCE"]


def test_missing_ambient_line_is_zero_but_other_lines_are_required() -> None:
    old_kernel = "\n".join(line for line in RESTRICTED.splitlines() if not line.startswith("CapAmb"))
    assert parse_status(old_kernel).ambient == 0
    with pytest.raises(ValueError, match="CapBnd"):
        parse_status(RESTRICTED.replace("CapBnd", "Nope"))
