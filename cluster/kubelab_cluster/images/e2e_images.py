"""The images Kubernetes' e2e suite runs its storage tests with, built here (no registry is reachable).

The suite names its images by registry, name and tag (``k8s.io/kubernetes/test/utils/image``);
``KUBE_TEST_REPO_LIST`` may point it at other registries. Ours is the cluster's local one:
busybox is our busybox image (Debian's busybox-static, every applet), agnhost its binary built by
the toolchain from the pinned Kubernetes module over that busybox. The volume tests run shell
scripts in nginx (``ls``, ``chmod``): our busybox, tagged so. The multi-volume tests run their
pods from glibc-dns-testing, using its shell, cat, sleep and GNU dd (``oflag=nocache``, which
busybox's dd refuses): our busybox with the host's GNU dd in ``/usr/local/bin`` (first in PATH),
dash as ``/bin/sh`` (busybox's shell runs its own dd whatever PATH says) and the glibc they
link. The tags are the suite's own, read from the pinned module's
``test/utils/image/manifest.go`` so they follow the Kubernetes pin.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
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
IMAGES = {  # name -> the suite's ImageID
    "busybox": "BusyBox",
    "nginx": "Nginx",
    "glibc-dns-testing": "GlibcDnsTesting",
    "agnhost": "Agnhost",
}
BUSYBOX_AS = ("busybox", "nginx")  # the suite's images our busybox stands in for
GNU_DD = Path("/usr/bin/dd")  # coreutils': the multi-volume tests' dd flags
DASH = Path("/bin/dash")  # a shell that looks commands up in PATH (busybox's prefers its applets)
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


def linked(binary: Path) -> dict[str, Path]:
    """The shared objects ``binary`` loads (its interpreter included): path in the image -> file on the host."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    found: dict[str, Path] = {}
    for line in out.splitlines():
        parts = line.split()
        path = parts[2] if "=>" in parts and len(parts) > 2 else parts[0] if parts and parts[0].startswith("/") else ""
        if path.startswith("/"):
            found[path] = Path(path).resolve()
    return found


def _over_busybox(ref: str, busybox: str, files: dict[str, Path], extra: str = "") -> None:
    """``ref``: ``busybox`` plus ``files`` (path in the image -> host file); rebuilt when an input changes.

    The paths are removed first: COPY onto one of busybox's applet links would follow it and
    overwrite the busybox binary itself."""
    key = content_key(
        busybox, {path: hashlib.sha256(host.read_bytes()).hexdigest() for path, host in files.items()}, extra
    )
    current = docker.image_labels(ref).get("dev.kubelab.key") if docker.image_exists(ref) else None
    if current == key:
        return
    with tempfile.TemporaryDirectory(prefix="kubelab-e2e-image-") as tmp:
        lines = [f"FROM {busybox}", f"RUN rm -f {' '.join(sorted(files))}"]
        for n, (path, host) in enumerate(sorted(files.items())):
            shutil.copy2(host, Path(tmp) / f"f{n}")
            lines.append(f"COPY f{n} {path}")
        (Path(tmp) / "Dockerfile").write_text(
            "\n".join([*lines, *([extra] if extra else []), f"LABEL dev.kubelab.key={key}", ""])
        )
        docker.build(ref, Path(tmp))


def build_e2e_images(pins: Pins) -> dict[str, str]:
    """Local images tagged as the suite names them: ``e2e-test-images/<name>:<tag>``; name -> reference."""
    tags = suite_tags(pins)
    busybox = build_busybox_image()
    refs = {name: f"{REGISTRY_PATH}/{name}:{tags[name]}" for name in IMAGES}
    for name in BUSYBOX_AS:
        docker.tag(busybox, refs[name])
    glibc = {"/usr/local/bin/dd": GNU_DD, "/bin/sh": DASH, **linked(GNU_DD), **linked(DASH)}
    _over_busybox(refs["glibc-dns-testing"], busybox, glibc)
    agnhost = build(BY_NAME["agnhost"], pins).binaries["agnhost"]
    _over_busybox(refs["agnhost"], busybox, {"/agnhost": agnhost}, 'ENTRYPOINT ["/agnhost"]')
    return refs


def repo_list(registry_prefix: str) -> str:
    """The ``KUBE_TEST_REPO_LIST`` document sending the suite's e2e images to ``registry_prefix``."""
    return f"promoterE2eRegistry: {registry_prefix}/{REGISTRY_PATH}\n"
