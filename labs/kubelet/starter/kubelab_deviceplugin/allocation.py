"""STARTER (chapter 9.2): one TODO below, marked ``TODO(9.2)``. Everything else works.

Which devices a container gets: the preferred set (GetPreferredAllocation) and what Allocate hands out.

The kubelet asks for a preference before it allocates when the plugin advertises
``get_preferred_allocation_available``: out of the ``available`` healthy devices, ``size``
of them, always including ``must_include``. Devices of one link group work best together
(think GPUs joined by one fabric), so the preference keeps a container's devices in as few
groups as it can, and leaves big groups whole for containers that need them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence


def natural(device_id: str) -> tuple[object, ...]:
    """Sort key: ``accel-2`` before ``accel-10``."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", device_id))


def preferred(available: Sequence[str], must_include: Sequence[str], size: int, links: Mapping[str, str]) -> list[str]:
    """``size`` device IDs out of ``available``, with every one of ``must_include``, in as few link groups as possible.

    The devices of ``must_include``'s groups come first; then, if one group can hold all that is
    still needed, the smallest such group (best fit); else the largest groups first. Within a
    group, the lowest IDs. ``links`` maps a device ID to its group. The result is sorted.
    """
    chosen = list(dict.fromkeys(must_include))
    raise NotImplementedError("TODO(9.2): `size` devices of `available` and `must_include`, link groups together")
    return sorted(chosen[:size], key=natural)
