"""Delivering an image to every node of the kind cluster, and the image of a submission.

Through the cluster's local registry (push, then every node pulls in parallel): measured
faster than ``kind load`` here, and only changed layers travel
(cluster/bench/bench_image_delivery.py, docs/cluster.md). Pods may then use
``imagePullPolicy: Never`` or ``IfNotPresent`` with the returned reference.

A python-package submission (``--impl``) runs in the cluster as the lab image plus one layer:
the package under /opt/kubelab/impl, first on PYTHONPATH, so it shadows the installed one
and a starter's modules find the rest of the reference after them (``pkgutil.extend_path``).
Keyed by the base image and the package's content: an unchanged submission builds nothing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kubelab_cluster.cache import content_key
from kubelab_cluster.images import docker
from kubelab_cluster.images.lab import SITE
from kubelab_cluster.kind.registry import ensure_registry, push
from kubelab_labkit.impl import Submission

IMPL_REPO = "kubelab/impl"
IMPL_DIR = "/opt/kubelab/impl"
IMPL_DOCKERFILE = f"""\
FROM {{base}}
COPY impl/ {IMPL_DIR}/
ENV PYTHONPATH={IMPL_DIR}:{SITE}
LABEL dev.kubelab.impl={{describe}}
"""


def deliver(ref: str, node_containers: Sequence[str]) -> str:
    """Make ``ref`` (a local Docker image) pullable on every node and pulled; returns the reference to use."""
    ensure_registry(list(node_containers))
    target = push(ref)

    def pull(node: str) -> None:
        proc = subprocess.run(["docker", "exec", node, "crictl", "pull", target], capture_output=True, text=True)
        if proc.returncode != 0:
            raise AssertionError(f"{node} could not pull {target}: {proc.stderr.strip()}")

    with ThreadPoolExecutor(max(1, len(node_containers))) as pool:
        list(pool.map(pull, node_containers))
    return target


def with_package(base: str, submission: Submission) -> str:
    """``base`` (a local image) with the submission's packages first on PYTHONPATH; returns the local reference."""
    assert submission.path is not None and submission.package, f"not a python-package submission: {submission}"
    ref = f"{IMPL_REPO}:{content_key(base, submission.key, IMPL_DOCKERFILE)}"
    if docker.image_exists(ref):
        return ref
    with tempfile.TemporaryDirectory(prefix="kubelab-impl-") as tmp:
        ctx = Path(tmp)
        for package in submission.packages:
            shutil.copytree(
                submission.path / package, ctx / "impl" / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        (ctx / "Dockerfile").write_text(IMPL_DOCKERFILE.format(base=base, describe=json.dumps(submission.describe())))
        docker.build(ref, ctx)
    docker.prune_repo(IMPL_REPO, keep=ref)
    return ref
