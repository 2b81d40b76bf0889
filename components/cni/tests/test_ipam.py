"""host-local semantics of the allocator and store: no namespaces needed."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kubelab_cni.config import IPAMConf
from kubelab_cni.ipam.allocator import Allocator
from kubelab_cni.protocol import CniError


def allocator(tmp_path: Path, **range_: str) -> Allocator:
    conf = IPAMConf.model_validate({"type": "host-local", "ranges": [[range_]], "dataDir": str(tmp_path)})
    return Allocator(conf, "net")


def addr(a: Allocator, cid: str, ifname: str = "eth0") -> str:
    return str(a.allocate(cid, ifname)[0].reservation.address)


def test_defaults_skip_network_gateway_and_broadcast(tmp_path: Path) -> None:
    a = allocator(tmp_path, subnet="10.99.0.0/29")  # .1 gateway, .2-.6 usable
    got = [addr(a, f"c{i}") for i in range(5)]
    assert got == ["10.99.0.2", "10.99.0.3", "10.99.0.4", "10.99.0.5", "10.99.0.6"]
    with pytest.raises(CniError) as err:
        a.allocate("c5", "eth0")
    assert err.value.code == 102
    assert len(list((tmp_path / "net").glob("10.*"))) == 5  # the failed call reserved nothing


def test_round_robin_after_release_and_file_format(tmp_path: Path) -> None:
    a = allocator(tmp_path, subnet="10.99.0.0/24", rangeStart="10.99.0.10", rangeEnd="10.99.0.12")
    assert addr(a, "a") == "10.99.0.10"
    assert addr(a, "b") == "10.99.0.11"
    a.release("a", "eth0")
    assert addr(a, "c") == "10.99.0.12"  # continues after the last reserved, not the freed one
    assert addr(a, "d") == "10.99.0.10"  # then wraps
    assert (tmp_path / "net" / "10.99.0.12").read_bytes() == b"c\r\neth0"
    assert (tmp_path / "net" / "last_reserved_ip.0").read_text() == "10.99.0.10"


def test_same_attachment_keeps_its_address(tmp_path: Path) -> None:
    a = allocator(tmp_path, subnet="10.99.0.0/24")
    assert addr(a, "x") == addr(a, "x")
    assert addr(a, "x", "eth1") != addr(a, "x")


def test_explicit_gateway_is_never_handed_out(tmp_path: Path) -> None:
    a = allocator(tmp_path, subnet="10.99.0.0/24", rangeStart="10.99.0.5", rangeEnd="10.99.0.6", gateway="10.99.0.5")
    assert addr(a, "a") == "10.99.0.6"
    assert a.range_sets[0].ranges[0].gateway == ipaddress.ip_address("10.99.0.5")


@pytest.mark.parametrize(
    "range_",
    [
        {"subnet": "10.99.0.0/31"},
        {"subnet": "10.99.0.0/24", "rangeStart": "10.99.1.1"},
        {"subnet": "10.99.0.0/24", "rangeStart": "10.99.0.9", "rangeEnd": "10.99.0.3"},
        {"subnet": "10.99.0.0/24", "gateway": "10.98.0.1"},
    ],
)
def test_invalid_ranges_are_code_7(tmp_path: Path, range_: dict[str, str]) -> None:
    with pytest.raises(CniError) as err:
        allocator(tmp_path, **range_)
    assert err.value.code == 7


def test_overlapping_range_sets_are_refused(tmp_path: Path) -> None:
    conf = IPAMConf.model_validate(
        {"type": "host-local", "ranges": [[{"subnet": "10.99.0.0/24"}], [{"subnet": "10.99.0.0/25"}]]}
    )
    with pytest.raises(CniError):
        Allocator(conf, "net")


def test_dual_stack_gets_one_address_per_range_set(tmp_path: Path) -> None:
    conf = IPAMConf.model_validate(
        {
            "type": "host-local",
            "ranges": [[{"subnet": "10.99.0.0/24"}], [{"subnet": "fd99::/64"}]],
            "dataDir": str(tmp_path),
        }
    )
    got = [str(x.reservation.address) for x in Allocator(conf, "net").allocate("c", "eth0")]
    assert got == ["10.99.0.2", "fd99::2"]


def test_gc_releases_everything_not_valid(tmp_path: Path) -> None:
    a = allocator(tmp_path, subnet="10.99.0.0/24")
    for cid in ("a", "b", "c"):
        addr(a, cid)
    (tmp_path / "net" / ".tmp-10.99.0.9.123").write_text("junk")
    stale = a.garbage_collect({("b", "eth0")})
    assert sorted(r.container_id for r in stale) == ["a", "c"]
    assert sorted(p.name for p in (tmp_path / "net").iterdir()) == ["10.99.0.3", "last_reserved_ip.0", "lock"]


# Each process allocates three addresses, as three plugin invocations would. Fresh
# interpreters, not forks of this one: a fork of a process with threads (grpc, informers of
# other tests) can inherit a held lock and hang.
GRAB = """
import sys
from kubelab_cni.config import IPAMConf
from kubelab_cni.ipam.allocator import Allocator
conf = IPAMConf.model_validate({"type": "host-local", "ranges": [[{"subnet": "10.99.0.0/24"}]], "dataDir": sys.argv[1]})
for n in range(3):
    print(Allocator(conf, "net").allocate(f"proc{sys.argv[2]}-{n}", "eth0")[0].reservation.address)
"""


def test_concurrent_processes_never_share_an_address(tmp_path: Path) -> None:
    def grab(i: int) -> list[str]:
        proc = subprocess.run([sys.executable, "-c", GRAB, str(tmp_path), str(i)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.split()

    with ThreadPoolExecutor(20) as pool:
        got = [a for batch in pool.map(grab, range(20)) for a in batch]
    assert len(got) == 60 and len(set(got)) == 60
