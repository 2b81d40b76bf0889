"""The summary controller against the fake API server."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest

from kubelab_client.kube import Api
from kubelab_client.ratelimit import ItemExponentialFailureRateLimiter
from kubelab_client.sample_controller import SOURCE_LABEL, SUMMARY_OF_LABEL, SummaryController, desired_summary
from kubelab_client.testing import FakeApiServer, Fault, fast_reflector_options

LABELS = {SOURCE_LABEL: "true"}


@pytest.fixture
def controller(api: Api) -> Iterator[SummaryController]:
    stop = threading.Event()
    ctrl = SummaryController(
        api,
        workers=4,
        resync_period=0,
        rate_limiter=ItemExponentialFailureRateLimiter(0.01, 0.2),
        reflector_options=fast_reflector_options(),
    )
    ready = threading.Event()
    thread = threading.Thread(target=ctrl.run, args=(stop, ready), daemon=True)
    thread.start()
    assert ready.wait(5)
    yield ctrl
    stop.set()
    thread.join(10)
    assert not thread.is_alive()


def summary(fake: FakeApiServer, name: str, ns: str = "default") -> dict | None:
    return fake.objects().get(f"{ns}/{name}-summary")


def test_desired_summary() -> None:
    source = {"metadata": {"name": "app", "namespace": "ns", "uid": "u1"}, "data": {"b": "xy", "a": "1"}}
    want = desired_summary(source)
    assert want["metadata"]["name"] == "app-summary"
    assert want["metadata"]["labels"] == {SUMMARY_OF_LABEL: "app"}
    assert want["metadata"]["ownerReferences"][0]["uid"] == "u1"
    assert want["data"] == {"keys": "2", "names": "a,b", "bytes": "3"}


def test_creates_updates_and_deletes_the_summary(fake: FakeApiServer, controller: SummaryController) -> None:
    fake.apply("default", "app", {"a": "1"}, LABELS)
    assert fake.wait_for(lambda: (s := summary(fake, "app")) is not None and s["data"]["keys"] == "1")
    fake.apply("default", "app", {"a": "1", "b": "2", "c": "3"})
    assert fake.wait_for(lambda: (s := summary(fake, "app")) is not None and s["data"]["keys"] == "3")
    fake.delete("default", "app")
    assert fake.wait_for(lambda: summary(fake, "app") is None)


def test_ignores_configmaps_without_the_label(fake: FakeApiServer, controller: SummaryController) -> None:
    fake.apply("default", "plain", {"a": "1"})
    fake.apply("default", "marked", {"a": "1"}, LABELS)
    assert fake.wait_for(lambda: summary(fake, "marked") is not None)
    assert summary(fake, "plain") is None


def test_recreates_a_summary_deleted_by_hand_and_repairs_edits(
    fake: FakeApiServer, controller: SummaryController
) -> None:
    fake.apply("default", "app", {"a": "1"}, LABELS)
    assert fake.wait_for(lambda: summary(fake, "app") is not None)
    fake.delete("default", "app-summary")
    assert fake.wait_for(lambda: summary(fake, "app") is not None)
    tampered = summary(fake, "app")
    assert tampered is not None
    tampered["data"]["keys"] = "999"
    fake.update(tampered)
    assert fake.wait_for(lambda: (s := summary(fake, "app")) is not None and s["data"]["keys"] == "1")


def test_write_errors_are_retried_with_backoff_then_forgotten(
    fake: FakeApiServer, controller: SummaryController
) -> None:
    fake.inject(Fault(on="write", status=500, times=3))
    fake.apply("default", "app", {"a": "1"}, LABELS)
    assert fake.wait_for(lambda: summary(fake, "app") is not None)
    writes = fake.records("write")
    assert [r.status for r in writes] == [500, 500, 500, 201]
    gaps = [b.at - a.at for a, b in itertools.pairwise(writes)]
    assert gaps[0] >= 0.009 and gaps[1] >= 0.019 and gaps[2] >= 0.039
    assert fake.wait_for(lambda: controller.queue.num_requeues("default/app") == 0)
    assert controller.stats["errors"] == 3


def test_one_key_is_never_reconciled_concurrently(fake: FakeApiServer, controller: SummaryController) -> None:
    in_flight: set[str] = set()
    overlaps: list[str] = []
    lock = threading.Lock()
    original = controller.sync

    def instrumented(key: str) -> str:
        with lock:
            if key in in_flight:
                overlaps.append(key)
            in_flight.add(key)
        try:
            return original(key)
        finally:
            with lock:
                in_flight.discard(key)

    controller.sync = instrumented  # type: ignore[method-assign]
    for n in range(200):
        fake.apply("default", f"app-{n % 4}", {f"k{i}": "v" for i in range(n % 7 + 1)}, LABELS)
    for i in range(4):
        want = desired_summary(fake.objects()[f"default/app-{i}"])["data"]
        assert fake.wait_for(lambda i=i, want=want: (s := summary(fake, f"app-{i}")) is not None and s["data"] == want)
    assert overlaps == []
