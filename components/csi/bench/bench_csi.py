"""kubelab-csi's speed: ``nox -s bench-csi`` prints the tables.

1. On this host, the driver on a scratch pool (:func:`kubelab_csi.testing.running_driver`) over its
   socket, as the sidecars and the kubelet call it: CreateVolume, NodeStageVolume,
   NodePublishVolume (and the way back) for ``--volumes`` volumes of 64 MiB, milliseconds per call.
2. On the cluster, with the driver deployed as the lab deploys it: ``--pods`` pods one after another,
   each with a new 64 MiB claim (WaitForFirstConsumer: scheduling, CreateVolume through
   external-provisioner, staging, publishing), from the claim's create to the pod Running and
   ready; beside as many pods with an emptyDir, in the same run, on the same nodes (the floor: what
   the kubelet and the runtime take anyway). The driver is taken down at the end.

    uv run --no-sync python components/csi/bench/bench_csi.py [--volumes 50] [--pods 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from kubelab_cluster.images.csi_sidecars import build_sidecars
from kubelab_cluster.images.lab import build_lab_image
from kubelab_cluster.kind.cluster import Cluster, kubeconfig_path
from kubelab_cluster.kind.kubectl import Kubectl
from kubelab_cluster.pins import pins, repo_root
from kubelab_cluster.progress import step
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build
from kubelab_csi.testing import running_driver
from kubelab_kit.grpc import connect
from kubelab_kit.stats import percentile
from kubelab_labkit import images, kube
from kubelab_labkit.nodes import workers
from kubelab_protos.gen.csi.v1 import csi_pb2, csi_pb2_grpc

sys.path.insert(0, str(repo_root()))
from labs.csi.tests import csilab

console = Console(width=160)
NS = "kubelab-csi-bench"
MiB = 1 << 20
Mode = csi_pb2.VolumeCapability.AccessMode
MOUNT = csi_pb2.VolumeCapability(
    mount=csi_pb2.VolumeCapability.MountVolume(), access_mode=Mode(mode=Mode.SINGLE_NODE_WRITER)
)


def clock(ms: dict[str, list[float]], call: Callable[[Any], Any], request: Any) -> Any:
    """Call ``call(request)``; its milliseconds go under the request's method name."""
    started = time.perf_counter()
    answer = call(request)
    ms.setdefault(type(request).__name__.removesuffix("Request"), []).append((time.perf_counter() - started) * 1000)
    return answer


def calls(volumes: int) -> dict[str, list[float]]:
    """Milliseconds per call, for each call of a volume's life."""
    ms: dict[str, list[float]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="kubelab-csi-bench-") as tmp,
        running_driver(Path(tmp) / "driver") as driver,
        connect(driver.endpoint) as channel,
    ):
        controller, node = csi_pb2_grpc.ControllerStub(channel), csi_pb2_grpc.NodeStub(channel)
        size = csi_pb2.CapacityRange(required_bytes=64 * MiB)
        for i in range(volumes):
            create = csi_pb2.CreateVolumeRequest(name=f"bench-{i}", volume_capabilities=[MOUNT], capacity_range=size)
            vid = clock(ms, controller.CreateVolume, create).volume.volume_id
            staging, target = str(Path(tmp) / f"s{i}"), str(Path(tmp) / f"t{i}" / "mount")
            clock(ms, node.NodeStageVolume, csi_pb2.NodeStageVolumeRequest(
                volume_id=vid, staging_target_path=staging, volume_capability=MOUNT))  # fmt: skip
            clock(ms, node.NodePublishVolume, csi_pb2.NodePublishVolumeRequest(
                volume_id=vid, staging_target_path=staging, target_path=target, volume_capability=MOUNT))  # fmt: skip
            clock(ms, node.NodeUnpublishVolume, csi_pb2.NodeUnpublishVolumeRequest(volume_id=vid, target_path=target))
            clock(ms, node.NodeUnstageVolume, csi_pb2.NodeUnstageVolumeRequest(
                volume_id=vid, staging_target_path=staging))  # fmt: skip
            clock(ms, controller.GetCapacity, csi_pb2.GetCapacityRequest())  # with this volume in the pool
            clock(ms, controller.DeleteVolume, csi_pb2.DeleteVolumeRequest(volume_id=vid))
    return ms


def pod(name: str, image: str, volume: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS},
        "spec": {
            "terminationGracePeriodSeconds": 0, "enableServiceLinks": False,
            "containers": [{
                "name": "main", "image": image, "imagePullPolicy": "IfNotPresent", "command": ["sleep", "infinity"],
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
            }],
            "volumes": [{"name": "data", **volume}],
        },
    }  # fmt: skip


def to_running(kubectl: Kubectl, name: str, objects: list[dict[str, Any]]) -> float:
    """Seconds from applying ``objects`` to the pod ``name`` Running and ready."""
    started = time.monotonic()
    kube.apply(kubectl, *objects)
    while True:
        status = kubectl.json("-n", NS, "get", "pod", name)["status"]
        if (status.get("containerStatuses") or [{}])[0].get("ready"):
            return time.monotonic() - started
        if time.monotonic() - started > 180:
            raise SystemExit(f"pod {name} not Running after 180 s: {status}")
        time.sleep(0.05)


def pods_running(count: int) -> dict[str, list[float]]:
    kubectl = Kubectl(build(BY_NAME["kubectl"], pins()).binaries["kubectl"], Path(kubeconfig_path()))
    nodes = Cluster.for_pins(pins()).node_containers()
    image = images.deliver(build_lab_image(), nodes)
    sidecars = {name: images.deliver(ref, nodes) for name, ref in build_sidecars(pins()).items()}
    seconds: dict[str, list[float]] = {"emptyDir": [], "kubelab-csi PVC": []}
    try:
        with step("deploy kubelab-csi"):
            csilab.deploy(kubectl, image, sidecars)
        kubectl.run("delete", "namespace", NS, "--ignore-not-found", "--wait=true", timeout=180)
        kubectl.run("create", "namespace", NS)
        for i in range(count):  # alternate, so that neither kind gets a warmer cluster
            seconds["emptyDir"].append(to_running(kubectl, f"empty-{i}", [pod(f"empty-{i}", image, {"emptyDir": {}})]))
            claim = csilab.pvc(f"claim-{i}", NS, "64Mi")
            volume = {"persistentVolumeClaim": {"claimName": f"claim-{i}"}}
            seconds["kubelab-csi PVC"].append(to_running(kubectl, f"pvc-{i}", [claim, pod(f"pvc-{i}", image, volume)]))
    finally:
        kubectl.run("delete", "namespace", NS, "--ignore-not-found", "--wait=true", timeout=300, check=False)
        with step("take kubelab-csi down"):
            csilab.uninstall(kubectl, workers(kubectl))
    return seconds


def spread(title: str, label: str, samples: dict[str, list[float]], digits: int) -> Table:
    """p50, p90 and max of each row's samples."""
    table = Table(title=title)
    for column in (label, "p50", "p90", "max"):
        table.add_column(column, justify="left" if column == label else "right")
    for name, values in samples.items():
        table.add_row(name, *(f"{v:.{digits}f}" for v in (percentile(values, 50), percentile(values, 90), max(values))))
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--volumes", type=int, default=50)
    parser.add_argument("--pods", type=int, default=10)
    args = parser.parse_args(argv)
    with step(f"{args.volumes} volumes through the driver's socket on this host"):
        ms = calls(args.volumes)
    console.print(spread(f"kubelab-csi calls on this host, {args.volumes} volumes of 64 MiB (ms)", "call", ms, 1))
    seconds = pods_running(args.pods)
    console.print(spread(f"{args.pods} pods one after another, create to Running and ready (s)", "volume", seconds, 2))
    floor = percentile(seconds["emptyDir"], 50)
    console.print(
        f"a kubelab-csi claim adds {percentile(seconds['kubelab-csi PVC'], 50) - floor:.2f} s at p50 to a pod's start"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
