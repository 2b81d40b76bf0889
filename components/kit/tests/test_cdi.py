"""CDI spec files: the document, its file name, and finding what a plugin left behind."""

from __future__ import annotations

import json
from pathlib import Path

from kubelab_kit import cdi


def test_a_spec_per_kind_and_suffix(tmp_path: Path) -> None:
    device = cdi.CdiDevice("d0", {"A": "1"}, ("/dev/x/d0",))
    path = cdi.write(tmp_path, "example.com/thing", [device], suffix="claim-1")
    assert path == tmp_path / "example.com-thing-claim-1.json"
    assert json.loads(path.read_text()) == {
        "cdiVersion": cdi.CDI_VERSION,
        "kind": "example.com/thing",
        "devices": [{"name": "d0", "containerEdits": {
            "env": ["A=1"], "deviceNodes": [{"path": "/dev/x/d0", "hostPath": "/dev/null", "permissions": "rw"}],
        }}],
    }  # fmt: skip
    cdi.write(tmp_path, "example.com/thing", [])
    assert cdi.suffixes(tmp_path, "example.com/thing") == ["claim-1"]  # the unsuffixed file is not one
    assert cdi.qualified("example.com/thing", "d0") == "example.com/thing=d0"
    assert cdi.remove(tmp_path, "example.com/thing", "claim-1") is True
    assert cdi.remove(tmp_path, "example.com/thing", "claim-1") is False
    assert cdi.suffixes(tmp_path / "absent", "example.com/thing") == []
