"""The labeller of pre-provisioned snapshot contents: which contents it takes, and the patch it sends."""

from __future__ import annotations

from typing import Any

from kubelab_client.errors import ClientError
from kubelab_csi.snapshot_contents import CONTENTS, MANAGED_BY, ContentClaimer, claimable

DRIVER = "csi.kubelab.dev"
HANDLE = "snap-0123456789abcdef01234567.kubelab-worker"


def content(handle: str | None = HANDLE, driver: str = DRIVER, labels: dict[str, str] | None = None) -> dict[str, Any]:
    source = {"snapshotHandle": handle} if handle else {"volumeHandle": "vol-0123456789abcdef01234567.kubelab-worker"}
    return {"metadata": {"name": "imported", "labels": labels or {}}, "spec": {"driver": driver, "source": source}}


class FakeApi:
    def __init__(self, fail: bool = False) -> None:
        self.patches: list[tuple[str, str, Any]] = []
        self.fail = fail

    def patch(self, resource: Any, name: str, patch: Any) -> dict[str, Any]:
        if self.fail:
            raise ClientError("the server is unavailable")
        self.patches.append((str(resource), name, patch))
        return {}


def test_claims_an_unlabelled_content_of_its_node() -> None:
    assert claimable(content(), DRIVER, "kubelab-worker")


def test_leaves_other_nodes_drivers_labelled_and_dynamic_contents() -> None:
    assert not claimable(content(), DRIVER, "kubelab-worker2")
    assert not claimable(content(driver="hostpath.csi.k8s.io"), DRIVER, "kubelab-worker")
    assert not claimable(content(labels={MANAGED_BY: "kubelab-worker"}), DRIVER, "kubelab-worker")
    assert not claimable(content(handle=None), DRIVER, "kubelab-worker")  # a dynamic content names a volume
    assert not claimable(content(handle="not-one-of-ours"), DRIVER, "kubelab-worker")


def test_claim_patches_the_label() -> None:
    api = FakeApi()
    ContentClaimer(api, DRIVER, "kubelab-worker").claim(content())  # type: ignore[arg-type]
    assert api.patches == [(str(CONTENTS), "imported", {"metadata": {"labels": {MANAGED_BY: "kubelab-worker"}}})]


def test_claim_survives_a_failed_patch() -> None:
    api = FakeApi(fail=True)
    ContentClaimer(api, DRIVER, "kubelab-worker").claim(content())  # type: ignore[arg-type]
    assert api.patches == []
