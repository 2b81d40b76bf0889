"""The console entry point: ``kubelab-csi serve`` on an image it formats, ``kubelab-csi probe``, SIGTERM."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from kubelab_csi.cli import size
from kubelab_csi.storage import loop
from kubelab_kit.mounts import is_mounted, unmount


def test_sizes() -> None:
    assert size("4G") == 4 << 30 and size("512Mi") == 512 << 20 and size("1024") == 1024
    with pytest.raises(Exception, match="expected a size"):
        size("lots")


def test_serve_probe_and_stop(tmp_path: Path) -> None:
    cli = shutil.which("kubelab-csi")
    assert cli, "the console script is installed with the package"
    endpoint, pool, image = tmp_path / "csi.sock", tmp_path / "pool", tmp_path / "pool.img"
    assert subprocess.run([cli, "probe", f"--endpoint={endpoint}", "--timeout=1"], capture_output=True).returncode == 1
    serve = subprocess.Popen(
        [
            cli,
            "serve",
            f"--endpoint={endpoint}",
            "--node-id=cli-node",
            f"--pool={pool}",
            f"--pool-image={image}",
            "--pool-size=1G",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not endpoint.exists() and time.monotonic() < deadline and serve.poll() is None:
            time.sleep(0.1)
        probed = subprocess.run([cli, "probe", f"--endpoint={endpoint}"], capture_output=True, text=True)
        assert probed.returncode == 0 and "ready" in probed.stdout, probed
        assert is_mounted(pool)
        serve.send_signal(signal.SIGTERM)
        output, _ = serve.communicate(timeout=30)
        assert serve.returncode == 0, output
        assert not endpoint.exists(), "the socket goes with the server"
        assert is_mounted(pool), "the pool stays mounted: published volumes live on it"
    finally:
        if serve.poll() is None:
            serve.kill()
        unmount(pool)
        loop.detach(image)


def test_a_larger_pool_size_grows_the_pool_in_place(tmp_path: Path) -> None:
    """The DaemonSet's --pool-size raised: the next driver grows the mounted pool, volumes kept."""
    from kubelab_csi.storage.pool import Pool

    image, root = tmp_path / "pool.img", tmp_path / "pool"
    try:
        small = Pool(root, image, 1 << 30).open()
        (small.volumes_dir / "marker").write_text("kept")
        before = small.space().size
        grown = Pool(root, image, 2 << 30).open()
        assert grown.space().size > before + (900 << 20)
        assert (grown.volumes_dir / "marker").read_text() == "kept"
    finally:
        unmount(root)
        loop.detach(image)
