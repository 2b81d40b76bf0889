"""The extender with the real kube-scheduler (the toolchain's, 1.37) on a real API server (envtest):
kube-scheduler calls our FastAPI extender to filter, prioritize and bind, and its decisions show."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
import yaml

from kubelab_client.kube import Api
from kubelab_client.resources import PODS
from kubelab_client.testing.envtest import ControlPlane, free_port
from kubelab_cluster.pins import pins
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build
from kubelab_kit.testing import eventually
from kubelab_scheduler.extender import policy
from kubelab_scheduler.extender.app import create_app

from .builders import node, pod
from .cluster import create, events_of, make_node, namespace

POOL = {"pool": "extender"}


@pytest.fixture(scope="module")
def api(control_plane: ControlPlane) -> Iterator[Api]:
    client = control_plane.api()
    make_node(client, node("ext-1", labels={**POOL, policy.FILTER_LABEL: "reject", policy.SCORE_LABEL: "10"}))
    make_node(client, node("ext-2", labels={**POOL, policy.SCORE_LABEL: "1"}))
    make_node(client, node("ext-3", labels={**POOL, policy.SCORE_LABEL: "10"}))
    yield client
    client.close()


@pytest.fixture(scope="module")
def extender(api: Api) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(api), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def kube_scheduler(
    control_plane: ControlPlane, extender: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("kube-scheduler")
    config = {
        "apiVersion": "kubescheduler.config.k8s.io/v1",
        "kind": "KubeSchedulerConfiguration",
        "clientConnection": {"kubeconfig": str(control_plane.kubeconfig)},
        "leaderElection": {"leaderElect": False},
        "extenders": [
            {
                "urlPrefix": extender,
                "filterVerb": "filter",
                "prioritizeVerb": "prioritize",
                "bindVerb": "bind",
                "weight": 5,
                "nodeCacheCapable": False,
                "ignorable": False,
            }
        ],
    }
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    binary = build(BY_NAME["kube-scheduler"], pins()).binaries["kube-scheduler"]
    log = (work / "kube-scheduler.log").open("wb")
    proc = subprocess.Popen(
        [
            binary,
            f"--config={work / 'config.yaml'}",
            "--bind-address=127.0.0.1",
            f"--secure-port={free_port()}",
            f"--cert-dir={work / 'certs'}",
            "--v=2",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    time.sleep(1)
    assert proc.poll() is None, (work / "kube-scheduler.log").read_text()[-2000:]
    yield work / "kube-scheduler.log"
    proc.terminate()
    proc.wait(15)
    log.close()


def default_scheduler_pod(name: str, **spec: object) -> dict[str, object]:
    p = pod(name, "100m", nodeSelector=POOL, **spec)
    p["spec"]["schedulerName"] = "default-scheduler"
    return p


def test_kube_scheduler_filters_prioritizes_and_binds_through_the_extender(api: Api, kube_scheduler: Path) -> None:
    ns = namespace(api, "extender")
    for i in range(3):
        create(api, default_scheduler_pod(f"ext-{i}"), ns)

    def placed() -> dict[str, str]:
        got = {p: api.get(PODS, p, ns)["spec"].get("nodeName") for p in ("ext-0", "ext-1", "ext-2")}
        return got if all(got.values()) else {}

    nodes = eventually(placed, timeout=60, what=f"kube-scheduler binds (its log: {kube_scheduler})")
    assert set(nodes.values()) == {"ext-3"}, nodes  # ext-1 refused by the filter, ext-3 prioritized over ext-2
    annotations = api.get(PODS, "ext-0", ns)["metadata"].get("annotations") or {}
    assert annotations.get(policy.BOUND_BY) == policy.NAME  # the extender's bind, not the default binder

    create(
        api,
        default_scheduler_pod(
            "only-rejected",
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["ext-1"]}]}
                        ]
                    }
                }
            },
        ),
        ns,
    )

    def refused() -> list[str]:
        return [e.get("note", "") for e in events_of(api, ns, "only-rejected") if e["reason"] == "FailedScheduling"]

    note = eventually(refused, timeout=30, what="FailedScheduling")[0]
    assert f"rejected by {policy.NAME}: node labelled {policy.FILTER_LABEL}=reject" in note, note
