from __future__ import annotations

from pathlib import Path

from kubelab_cluster.host.detect import cgroup_version, free_bytes, is_debian_like, parse_os_release

DEBIAN = """\
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
"""

UBUNTU = """\
# a comment
NAME="Ubuntu"
VERSION_ID="24.04"
ID=ubuntu
ID_LIKE=debian
PRETTY_NAME='Ubuntu 24.04.1 LTS'
"""

MINT = 'ID=linuxmint\nID_LIKE="ubuntu debian"\n'
FEDORA = 'ID=fedora\nVERSION_ID=41\nPRETTY_NAME="Fedora Linux 41"\n'


def test_os_release_debian() -> None:
    values = parse_os_release(DEBIAN)
    assert values["ID"] == "debian"
    assert values["PRETTY_NAME"] == "Debian GNU/Linux 12 (bookworm)"
    assert values["VERSION_CODENAME"] == "bookworm"
    assert is_debian_like(values)


def test_os_release_ubuntu_and_derivatives() -> None:
    ubuntu = parse_os_release(UBUNTU)
    assert ubuntu["PRETTY_NAME"] == "Ubuntu 24.04.1 LTS"
    assert is_debian_like(ubuntu)
    assert is_debian_like(parse_os_release(MINT))


def test_os_release_other() -> None:
    assert not is_debian_like(parse_os_release(FEDORA))
    assert not is_debian_like({})


HYBRID = """\
sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0
cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
"""
V1 = "\n".join(line for line in HYBRID.splitlines() if "cgroup2" not in line)
V2 = "sysfs /sys sysfs rw 0 0\ncgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0\n"


def test_cgroup_versions() -> None:
    assert cgroup_version(HYBRID) == "hybrid"
    assert cgroup_version(V1) == "v1"
    assert cgroup_version(V2) == "v2"
    assert cgroup_version("proc /proc proc rw 0 0\n") == "none"


def test_free_bytes_walks_up_to_an_existing_parent(tmp_path: Path) -> None:
    where, free = free_bytes(tmp_path / "not" / "there")
    assert where == tmp_path
    assert free > 0
