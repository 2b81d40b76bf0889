"""The mount table as the kit reads it: escapes decoded, roots of bind mounts, stacked mounts."""

from __future__ import annotations

from pathlib import Path

from kubelab_kit.mounts import mount_points, mounts

MOUNTINFO = """\
22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
47 22 0:40 / /var/lib/pool rw,relatime shared:2 - btrfs /dev/loop0 rw,subvolid=5,subvol=/
48 22 0:40 /volumes/vol-1 /var/lib/kubelet/with\\040space rw,relatime shared:2 - btrfs /dev/loop0 rw
49 22 0:40 /volumes/vol-1 /var/lib/kubelet/with\\040space rw,relatime shared:2 - btrfs /dev/loop0 rw
50 22 0:5 /loop3 /pods/x/dev rw,nosuid shared:3 master:1 - devtmpfs udev rw
"""


def test_mounts_decode_paths_and_keep_roots(tmp_path: Path) -> None:
    info = tmp_path / "mountinfo"
    info.write_text(MOUNTINFO)
    found = mounts(info)
    assert [m.point for m in found][:2] == ["/", "/var/lib/pool"]
    bind = found[2]
    assert (bind.root, bind.point, bind.fstype, bind.source) == (
        "/volumes/vol-1", "/var/lib/kubelet/with space", "btrfs", "/dev/loop0",
    )  # fmt: skip
    assert found[4].root == "/loop3" and found[4].fstype == "devtmpfs", "optional fields before '-' are skipped"
    assert mount_points(info).count("/var/lib/kubelet/with space") == 2, "a path mounted twice appears twice"


def test_an_unreadable_table_is_empty(tmp_path: Path) -> None:
    assert mounts(tmp_path / "absent") == []
