"""Client-side throttling (client-go's rest.Config QPS/Burst) on a real HTTP round trip."""

from __future__ import annotations

import time

from kubelab_client.kube import Api
from kubelab_client.resources import CONFIGMAPS


def _list_n(api: Api, n: int) -> float:
    started = time.monotonic()
    for _ in range(n):
        api.request("GET", CONFIGMAPS.collection_path("default"))
    return time.monotonic() - started


def test_requests_beyond_the_burst_wait_for_tokens(api: Api) -> None:
    api.limited(qps=20, burst=2)
    # 2 from the burst, then 4 more at 20/s: at least 0.2 s, whatever the server's speed
    assert _list_n(api, 6) >= 0.19


def test_no_limit_by_default_and_qps_zero_removes_it(api: Api) -> None:
    assert api.throttle is None
    api.limited(qps=20, burst=2)
    assert api.throttle is not None
    assert api.limited(qps=0, burst=1).throttle is None
