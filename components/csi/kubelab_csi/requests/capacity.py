"""A CapacityRange turned into the bytes a volume gets (CSI: required <= size <= limit)."""

from __future__ import annotations

from typing import Any

from kubelab_kit.grpc import InvalidArgument, OutOfRange

DEFAULT_CAPACITY = 1 << 30  # a request that names no size gets 1 GiB
BLOCK = 4096  # sizes are whole filesystem blocks


def bytes_for(capacity_range: Any, default: int = DEFAULT_CAPACITY) -> int:
    required, limit = int(capacity_range.required_bytes), int(capacity_range.limit_bytes)
    if required < 0 or limit < 0:
        raise InvalidArgument(f"capacity_range cannot be negative (required {required}, limit {limit})")
    if limit and required > limit:
        raise InvalidArgument(f"capacity_range: required_bytes {required} is above limit_bytes {limit}")
    size = required or (min(default, limit) if limit else default)
    size = -(-size // BLOCK) * BLOCK
    if limit and size > limit:
        raise OutOfRange(f"the smallest size this driver allocates above {required} bytes is {size}, over {limit}")
    return size
