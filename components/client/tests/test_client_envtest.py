"""envtest's control plane: a process that does not start is an error with its log, nothing left running."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelab_client.testing.envtest import ControlPlane, ControlPlaneError


def test_a_failing_binary_is_reported_with_its_log(tmp_path: Path) -> None:
    broken = tmp_path / "etcd"
    broken.write_text("#!/bin/sh\necho 'etcd: cannot open the data dir' >&2\nexit 3\n")
    broken.chmod(0o755)
    never_started = tmp_path / "kube-apiserver"
    never_started.write_text("#!/bin/sh\nexit 9\n")
    never_started.chmod(0o755)
    cp = ControlPlane(etcd=broken, apiserver=never_started, workdir=tmp_path / "w", start_timeout=20)
    with pytest.raises(ControlPlaneError, match=r"(?s)etcd exited with status 3:.*cannot open the data dir"), cp:
        pass
    assert not cp._procs  # nothing left running
    assert not (tmp_path / "w" / "kube-apiserver.log").exists()  # kube-apiserver waits for a healthy etcd
