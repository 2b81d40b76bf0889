from __future__ import annotations

import threading

import pytest

from kubelab_client import cli
from kubelab_client.testing import FakeApiServer


def test_watch_prints_events_through_the_informer(fake: FakeApiServer, capsys: pytest.CaptureFixture[str]) -> None:
    fake.apply("default", "a", {})
    fake.apply("default", "b", {})
    done = threading.Event()

    def churn() -> None:
        assert fake.wait_for(lambda: fake.open_watches() == 1)
        fake.apply("default", "a", {"x": "1"})
        fake.delete("default", "b")
        done.set()

    threading.Thread(target=churn, daemon=True).start()
    assert cli.main(["watch", "configmaps", "--server", fake.url, "--max-events", "4", "--timeout", "10"]) == 0
    assert done.is_set()
    out = capsys.readouterr().out
    assert "watching configmaps" in out and "cache synced: 2 objects" in out
    lines = [line.split()[1:3] for line in out.splitlines() if line[:2].isdigit()]
    assert lines == [["ADD", "default/a"], ["ADD", "default/b"], ["UPDATE", "default/a"], ["DELETE", "default/b"]]
