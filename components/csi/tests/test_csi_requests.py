"""The checks every call makes before touching storage: capacity ranges, pagination (no root needed)."""

from __future__ import annotations

import pytest

from kubelab_csi.requests.capacity import DEFAULT_CAPACITY, bytes_for
from kubelab_csi.requests.paging import page
from kubelab_kit.grpc import Aborted, InvalidArgument, OutOfRange
from kubelab_protos.gen.csi.v1 import csi_pb2


def span(required: int = 0, limit: int = 0) -> csi_pb2.CapacityRange:
    return csi_pb2.CapacityRange(required_bytes=required, limit_bytes=limit)


def test_capacity_ranges() -> None:
    assert bytes_for(span()) == DEFAULT_CAPACITY
    assert bytes_for(span(limit=1 << 20)) == 1 << 20, "no size asked: the default, capped by the limit"
    assert bytes_for(span(required=1000)) == 4096, "rounded up to whole blocks"
    assert bytes_for(span(required=4096, limit=4096)) == 4096
    with pytest.raises(OutOfRange):
        bytes_for(span(required=1000, limit=1000))  # 4096 would exceed the limit
    with pytest.raises(InvalidArgument):
        bytes_for(span(required=2, limit=1))


IDS = [f"vol-{i:024x}.node" for i in range(5)]


def test_pages_follow_the_last_id_so_deletions_do_not_skip() -> None:
    first, token = page(IDS, str, "", 2)
    assert first == IDS[:2] and token == IDS[1]
    remaining = [i for i in IDS if i != IDS[1]]  # the page's last item deleted before the next call
    second, token = page(remaining, str, token, 2)
    assert second == IDS[2:4] and token == IDS[3]
    assert page(remaining, str, token, 2) == ([IDS[4]], "")
    with pytest.raises(Aborted):
        page(IDS, str, "not-ours", 2)
    with pytest.raises(InvalidArgument):
        page(IDS, str, "", -1)
