"""critest's test images, rebuilt from the busybox layer and pushed to a local registry (offline).

critest (cri-tools v1.37.0, ``pkg/validate/consts.go`` and the test files) pulls:

* the default container image (``registry.k8s.io/e2e-test-images/busybox:1.29-2``) and the web
  server (``.../nginx:1.14-2``): overridable with ``-test-images-file`` (keys
  ``defaultTestContainerImage``, ``webServerTestImage``), so these are ours under ``kubelab/``
  in the local registry, named by its address (the web server is busybox ``httpd`` on port 80);
* fixed names: under ``gcr.io/k8s-staging-cri-tools/`` (users, tags, a list of three images,
  one image under three tags, a group defined in the image), ``registry.k8s.io/pause:3.9`` +
  ``k8s.gcr.io/pause:3.9`` (one image from two registries: our pause), and three more
  ``registry.k8s.io/e2e-test-images/`` ones: ``nginx:1.14-2`` (the PID-namespace tests: a
  stand-in that looks like nginx to them, ``cluster/images/critest/nginx.c``),
  ``nonewprivs:1.3`` (a setuid-root binary printing its effective UID, ``nnp.c``) and
  ``httpd:2.4.39-4`` (the multi-container tests: busybox httpd), and
  ``gcr.io/k8s-staging-cri-tools/hostnet-nginx-amd64`` (busybox httpd on port 12003).
  ``-registry-prefix`` rewrites
  these only where critest pulls, not where it creates containers, so the runtime is pointed at
  the local registry for those hosts instead (:data:`MIRRORED_HOSTS`, its
  ``--registry-mirror``): every host's repositories live side by side in the one registry;
* one pinned digest (``test-image-digest@sha256:9700f9a2...``): a rebuilt image cannot have
  it, so that test is skipped (:data:`NOT_BUILT`).

All of them stand on :func:`busybox_hardlinked_layer`: Debian's busybox-static laid out as
upstream's busybox image is (hard links, not symlinks) with stand-ins for the two applets
critest runs that Debian's build lacks (``pgrep``, ``ipcs``).

The fixed-name images are OCI indexes (amd64 + an arm64 decoy), as upstream's are manifest
lists; the two of ours are plain manifests. Deterministic: same host packages, same digests.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import subprocess
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kubelab_cluster.cache import cache_root
from kubelab_cluster.images.busybox import BUSYBOX, CONFIG, MTIME, applets, with_parents
from kubelab_cluster.images.errors import ImageError
from kubelab_cluster.images.oci_registry import Registry, layer, push_image
from kubelab_cluster.images.scratch import GROUP, PASSWD
from kubelab_cluster.images.sources import images_dir, pause_binary
from kubelab_kit.files import staged_dir

MIRRORED_HOSTS = ("registry.k8s.io", "k8s.gcr.io", "gcr.io")
STAGING = "k8s-staging-cri-tools"  # gcr.io/k8s-staging-cri-tools/...
E2E = "e2e-test-images"  # registry.k8s.io/e2e-test-images/...
DEFAULT_REPO = "kubelab/critest-busybox"
WEB_SERVER_REPO = "kubelab/critest-httpd"
TAG = "1"

NOT_BUILT: dict[str, str] = {
    f"gcr.io/{STAGING}/test-image-digest@sha256:9700f9a2...": "pinned to upstream's manifest digest: no rebuilt "
    "image has it",
    f"registry.k8s.io/{E2E}/busybox:1.29-2": f"replaced by {DEFAULT_REPO} through defaultTestContainerImage",
}

WWW_DATA_PASSWD = PASSWD + "www-data:x:33:33:www-data:/var/www:/bin/false\n"
WWW_DATA_GROUP = GROUP + "www-data:x:33:\n"
# images/image-predefined-group: `adduser -u 1000 -D default-user`, group 50000 with it as member
PREDEFINED_PASSWD = PASSWD + "default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh\n"
PREDEFINED_GROUP = GROUP + "default-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\n"
INDEX_HTML = b"<html><body>kubelab critest web server</body></html>\n"
# the multi-container test waits for "httpd" in the container's log
HTTPD = ["sh", "-c", "echo 'httpd: serving /www on port 80'; exec httpd -f -v -p 80 -h /www"]
HOSTNET_HTTPD = ["httpd", "-f", "-v", "-p", "12003", "-h", "/www"]


# Applets upstream's busybox has and Debian's busybox-static lacks, as shell stand-ins
PGREP = b"""#!/bin/sh
# pgrep NAME: the PIDs whose command name is NAME (stand-in for the busybox applet)
found=1
for dir in /proc/[0-9]*; do
    if [ "$(cat "$dir/comm" 2>/dev/null)" = "$1" ]; then echo "${dir#/proc/}"; found=0; fi
done
exit $found
"""
IPCS = b"""#!/bin/sh
# ipcs -m: the System V shared memory segments of this IPC namespace (stand-in for the applet)
echo "------ Shared Memory Segments --------"
echo "key        shmid      perms      bytes"
tail -n +2 /proc/sysvipc/shm | while read -r key shmid perms bytes rest; do
    echo "$key $shmid $perms $bytes"
done
"""


def busybox_hardlinked_layer(busybox: Path = BUSYBOX) -> bytes:
    """busybox as upstream's image has it: every applet a hard link to ``/bin/busybox`` (a masked
    ``/bin/ls`` then hides ls only, not the shell), plus ``pgrep`` and ``ipcs`` stand-ins."""
    names = [n for n in applets(busybox) if n not in {"usr/bin/pgrep", "usr/bin/ipcs"}]
    base = {"bin", "etc", "tmp", "var", "var/run", "root", "home", "proc", "sys", "dev", "usr", "usr/bin", "sbin"}
    dirs = with_parents(names, base)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:

        def add(name: str, kind: bytes, mode: int, data: bytes = b"", link: str = "") -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime, info.linkname, info.size = kind, mode, MTIME, link, len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)

        for d in sorted(dirs):
            add(d, tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755)
        add("bin/busybox", tarfile.REGTYPE, 0o755, busybox.read_bytes())
        add("etc/passwd", tarfile.REGTYPE, 0o644, PASSWD.encode())
        add("etc/group", tarfile.REGTYPE, 0o644, GROUP.encode())
        for name in names:
            add(name, tarfile.LNKTYPE, 0o755, link="bin/busybox")
        add("usr/bin/pgrep", tarfile.REGTYPE, 0o755, PGREP)
        add("usr/bin/ipcs", tarfile.REGTYPE, 0o755, IPCS)
    return gzip.compress(raw.getvalue(), mtime=0)


def static_binary(name: str) -> Path:
    """``cluster/images/critest/<name>.c`` compiled statically, once per source hash."""
    source = images_dir() / "critest" / f"{name}.c"
    key = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    out = cache_root() / "images" / "critest" / name / key / name
    if out.is_file():
        return out
    with staged_dir(out.parent, replace=True) as tmp:
        cmd = ["gcc", "-static", "-Os", "-s", "-Wall", "-Werror", "-o", str(tmp / name), str(source)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            fix = "kubelab-host packages (installs gcc, libc6-dev)"
            raise ImageError(name, f"compiling {name}.c failed", fix, cmd, proc.stdout + proc.stderr)
    return out


@dataclass(frozen=True)
class CritestImage:
    """One image: its repository (the path under any of the mirrored hosts), tags, layers over busybox."""

    repo: str
    tags: tuple[str, ...]
    files: Mapping[str, bytes | None] = field(default_factory=dict)  # one layer over busybox, if any
    config: Mapping[str, object] = field(default_factory=lambda: dict(CONFIG))
    as_index: bool = True
    modes: Mapping[str, int] = field(default_factory=dict)  # a file's mode, when not 0644 (setuid: 0o4755)


PORT_80: dict[str, object] = {"ExposedPorts": {"80/tcp": {}}}
PAUSE_CONFIG: dict[str, object] = {"Env": CONFIG["Env"], "Entrypoint": ["/pause"]}


def _www(root: str) -> dict[str, bytes | None]:
    """A document root with an index page (and its parent directories)."""
    parts = root.split("/")
    dirs: dict[str, bytes | None] = {"/".join(parts[: i + 1]) + "/": None for i in range(len(parts))}
    return {**dirs, f"{root}/index.html": INDEX_HTML}


def _user(repo: str, user: str) -> CritestImage:
    """images/image-user: busybox with ``USER``; upstream busybox has www-data (33) in /etc/passwd."""
    files = {"etc/": None, "etc/passwd": WWW_DATA_PASSWD.encode(), "etc/group": WWW_DATA_GROUP.encode()}
    return CritestImage(f"{STAGING}/{repo}", ("latest",), files, {**CONFIG, "User": user})


def _marked(repo: str, tags: tuple[str, ...], mark: str) -> CritestImage:
    """images/image-test: busybox plus one empty file named ``mark`` (so images differ by content)."""
    return CritestImage(f"{STAGING}/{repo}", tags, {mark: b""})


def critest_images() -> list[CritestImage]:
    """Every image this module builds (see the module docstring for which test uses which)."""
    return [
        CritestImage(DEFAULT_REPO, (TAG,), as_index=False),
        CritestImage(WEB_SERVER_REPO, (TAG,), _www("www"), {**CONFIG, "Cmd": HTTPD, **PORT_80}, as_index=False),
        CritestImage(f"{E2E}/httpd", ("2.4.39-4",), _www("www"), {**CONFIG, "Cmd": HTTPD, **PORT_80}),
        # images/hostnet-nginx: a web server on port 12003 in the host's network (port-forward in host network)
        CritestImage(f"{STAGING}/hostnet-nginx-amd64", ("latest",), _www("www"), {**CONFIG, "Cmd": HOSTNET_HTTPD}),
        CritestImage(
            f"{E2E}/nginx",
            ("1.14-2",),
            {
                **_www("usr/share/nginx/html"),
                "var/": None,
                "var/run/": None,
                "usr/sbin/nginx": static_binary("nginx").read_bytes(),
            },
            {**CONFIG, "Cmd": ["nginx", "-g", "daemon off;"], **PORT_80},
            modes={"usr/sbin/nginx": 0o755},
        ),
        CritestImage(
            f"{E2E}/nonewprivs",
            ("1.3",),
            {"usr/local/": None, "usr/local/bin/": None, "usr/local/bin/nnp": static_binary("nnp").read_bytes()},
            {**CONFIG, "Cmd": ["/usr/local/bin/nnp"]},
            modes={"usr/local/bin/nnp": 0o4755},
        ),
        _user("test-image-user-uid", "1002"),
        _user("test-image-user-username", "www-data"),
        _user("test-image-user-uid-group", "1003:1004"),
        _user("test-image-user-username-group", "www-data:1004"),
        CritestImage(
            f"{STAGING}/test-image-predefined-group",
            ("latest",),
            {
                "etc/": None,
                "etc/passwd": PREDEFINED_PASSWD.encode(),
                "etc/group": PREDEFINED_GROUP.encode(),
                "home/": None,
                "home/default-user/": None,
            },
            {**CONFIG, "User": "1000"},
        ),
        _marked("test-image-latest", ("latest",), "test-image-latest"),
        _marked("test-image-1", ("latest",), "test-image-1"),
        _marked("test-image-2", ("latest",), "test-image-2"),
        _marked("test-image-3", ("latest",), "test-image-3"),
        _marked("test-image-tag", ("test",), "test"),
        _marked("test-image-tag", ("all",), "all"),
        _marked("test-image-tags", ("1", "2", "3"), "same-image"),
        CritestImage("pause", ("3.9",), {"pause": pause_binary().read_bytes()}, PAUSE_CONFIG, modes={"pause": 0o755}),
    ]


@dataclass(frozen=True)
class Pushed:
    """What critest is given: the ``-test-images-file`` YAML and the runtime's registry mirrors."""

    test_images_yaml: str
    mirrors: dict[str, str]  # host -> the local registry's URL, as ``--registry-mirror HOST=URL``
    refs: list[str]  # every reference pushed, as critest names it


def push_critest_images(registry: Registry) -> Pushed:
    """Build and push every image of :func:`critest_images` to ``registry``."""
    base = busybox_hardlinked_layer()
    refs: list[str] = []
    for image in critest_images():
        layers = [base, layer(image.files, image.modes)] if image.files else [base]
        for tag in image.tags:
            push_image(registry, image.repo, tag, layers, config=image.config, as_index=image.as_index)
            if image.repo.startswith("kubelab/"):
                refs.append(f"{registry.host}/{image.repo}:{tag}")
            elif image.repo.startswith(f"{STAGING}/"):
                refs.append(f"gcr.io/{image.repo}:{tag}")
            elif image.repo.startswith(f"{E2E}/"):
                refs.append(f"registry.k8s.io/{image.repo}:{tag}")
            else:
                refs += [f"registry.k8s.io/{image.repo}:{tag}", f"k8s.gcr.io/{image.repo}:{tag}"]
    yaml = (
        f"defaultTestContainerImage: {registry.host}/{DEFAULT_REPO}:{TAG}\n"
        f"webServerTestImage: {registry.host}/{WEB_SERVER_REPO}:{TAG}\n"
    )
    return Pushed(yaml, {host: registry.url for host in MIRRORED_HOSTS}, refs)
