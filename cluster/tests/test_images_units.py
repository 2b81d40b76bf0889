from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from kubelab_cluster.images.debian import Rootfs, _source_entries, find_mirror
from kubelab_cluster.images.errors import ImageError
from kubelab_cluster.images.scratch import write_scratch_rootfs
from kubelab_cluster.kind.network import conflist
from kubelab_cluster.kind.registry import NAME, PREFIX, hosts_toml

DEB822 = """\
Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
"""


def test_mirror_from_deb822_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBELAB_DEBIAN_MIRROR", raising=False)
    d = tmp_path / "sources.list.d"
    d.mkdir()
    (d / "debian.sources").write_text(DEB822)
    assert find_mirror("bookworm", (tmp_path / "sources.list", d)) == "http://mirror.example/debian"


def test_mirror_from_one_line_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBELAB_DEBIAN_MIRROR", raising=False)
    f = tmp_path / "sources.list"
    f.write_text("deb [arch=amd64] http://other.example/debian bookworm main\n")
    assert _source_entries(f.read_text()) == [("http://other.example/debian", ["bookworm"])]
    assert find_mirror("bookworm", (f,)) == "http://other.example/debian"


def test_no_mirror_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBELAB_DEBIAN_MIRROR", raising=False)
    with pytest.raises(ImageError, match="KUBELAB_DEBIAN_MIRROR"):
        find_mirror("bookworm", (tmp_path / "missing",))


def test_env_overrides_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBELAB_DEBIAN_MIRROR", "http://env.example/debian")
    assert find_mirror() == "http://env.example/debian"


def test_rootfs_key_depends_on_packages_not_order() -> None:
    assert Rootfs("x", ("a", "b")).key == Rootfs("x", ("b", "a")).key
    assert Rootfs("x", ("a", "b")).key != Rootfs("x", ("a", "c")).key


def test_scratch_rootfs_is_deterministic(tmp_path: Path) -> None:
    binary = tmp_path / "tool"
    binary.write_bytes(b"\x7fELF fake")
    one, two = tmp_path / "1.tar", tmp_path / "2.tar"
    write_scratch_rootfs(one, {"/usr/local/bin/tool": binary})
    write_scratch_rootfs(two, {"/usr/local/bin/tool": binary})
    assert one.read_bytes() == two.read_bytes()
    with tarfile.open(one) as tar:
        names = tar.getnames()
        assert "usr/local/bin/tool" in names and "etc/passwd" in names
        assert tar.getmember("usr/local/bin/tool").mode == 0o755
        assert tar.getmember("tmp").mode == 0o1777


def test_default_network_conflist() -> None:
    doc = json.loads(conflist("10.244.1.0/24"))
    assert [p["type"] for p in doc["plugins"]] == ["ptp", "portmap"]
    assert doc["plugins"][0]["ipam"]["ranges"] == [[{"subnet": "10.244.1.0/24"}]]
    assert doc["plugins"][1]["capabilities"] == {"portMappings": True}


def test_registry_mirror_config_names_the_registry_container() -> None:
    assert PREFIX == "localhost:5001"
    text = hosts_toml(PREFIX, f"http://{NAME}:5000")
    assert 'server = "http://kubelab-registry:5000"' in text and '[host."http://kubelab-registry:5000"]' in text


def test_preflight_disk_and_port(tmp_path: Path) -> None:
    import socket

    from kubelab_cluster.kind.preflight import PreflightError, check_disk, check_port

    with pytest.raises(PreflightError, match="GiB free"):
        check_disk(str(tmp_path), need_gib=10**9)
    check_disk(str(tmp_path), need_gib=0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(PreflightError, match=f"127.0.0.1:{port}"):
            check_port(port)
