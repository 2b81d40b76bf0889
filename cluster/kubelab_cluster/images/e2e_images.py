"""The images Kubernetes' e2e suite runs its storage tests with, built here (no registry is reachable).

The suite names its images by registry, name and tag (``k8s.io/kubernetes/test/utils/image``);
``KUBE_TEST_REPO_LIST`` may point it at other registries. Ours is the cluster's local one:
busybox is our busybox image (Debian's busybox-static, every applet), agnhost its binary built by
the toolchain from the pinned Kubernetes module over that busybox. The multi-volume storage tests
run their pods from glibc-dns-testing, and only its shell, dd, cat and sleep: our busybox, tagged
so. The tags are the suite's own, read from the pinned module's ``test/utils/image/manifest.go``
so they follow the Kubernetes pin.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from kubelab_cluster.cache import content_key
from kubelab_cluster.images import docker
from kubelab_cluster.images.busybox import build_busybox_image
from kubelab_cluster.pins import Pins
from kubelab_cluster.toolchain.artifacts import BY_NAME
from kubelab_cluster.toolchain.build import build
from kubelab_cluster.toolchain.gotool import GoRunner

REGISTRY_PATH = "e2e-test-images"  # under the cluster registry: localhost:5001/e2e-test-images/<name>:<tag>
IMAGES = {"busybox": "BusyBox", "glibc-dns-testing": "GlibcDnsTesting", "agnhost": "Agnhost"}  # name -> ImageID
BUSYBOX_AS = ("busybox", "glibc-dns-testing")  # the suite's images our busybox stands in for
_CONFIG = re.compile(r'configs\[(?P<id>\w+)\] = Config\{list\.\w+, "(?P<name>[\w.-]+)", "(?P<tag>[\w.-]+)"\}')


def suite_tags(pins: Pins) -> dict[str, str]:
    """name -> tag, for the images the suite expects from its e2e registry (those of IMAGES)."""
    go = GoRunner("e2e-images", pins.tools.go)
    info = go.module_info("k8s.io/kubernetes", pins.kubernetes.version)
    manifest = (Path(info["Dir"]) / "test" / "utils" / "image" / "manifest.go").read_text()
    tags = {m["id"]: m["tag"] for m in _CONFIG.finditer(manifest)}
    missing = [name for name, image_id in IMAGES.items() if image_id not in tags]
    if missing:
        raise ValueError(f"manifest.go of k8s.io/kubernetes {pins.kubernetes.version} names no {missing}")
    return {name: tags[image_id] for name, image_id in IMAGES.items()}


def build_e2e_images(pins: Pins) -> dict[str, str]:
    """Local images tagged as the suite names them: ``e2e-test-images/<name>:<tag>``; name -> reference."""
    tags = suite_tags(pins)
    busybox = build_busybox_image()
    refs = {name: f"{REGISTRY_PATH}/{name}:{tags[name]}" for name in BUSYBOX_AS}
    for ref in refs.values():
        docker.tag(busybox, ref)
    agnhost = build(BY_NAME["agnhost"], pins).binaries["agnhost"]
    key = content_key(busybox, agnhost.parent.name)
    refs["agnhost"] = f"{REGISTRY_PATH}/agnhost:{tags['agnhost']}"
    current = (
        docker.image_labels(refs["agnhost"]).get("dev.kubelab.key") if docker.image_exists(refs["agnhost"]) else None
    )
    if current != key:
        with tempfile.TemporaryDirectory(prefix="kubelab-agnhost-") as tmp:
            shutil.copy2(agnhost, Path(tmp) / "agnhost")
            (Path(tmp) / "Dockerfile").write_text(
                f'FROM {busybox}\nCOPY agnhost /agnhost\nENTRYPOINT ["/agnhost"]\nLABEL dev.kubelab.key={key}\n'
            )
            docker.build(refs["agnhost"], Path(tmp))
    return refs


def repo_list(registry_prefix: str) -> str:
    """The ``KUBE_TEST_REPO_LIST`` document sending the suite's e2e images to ``registry_prefix``."""
    return f"promoterE2eRegistry: {registry_prefix}/{REGISTRY_PATH}\n"
