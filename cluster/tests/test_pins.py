from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from kubelab_cluster.pins import load_pins, pin_file


def test_pin_file_loads_and_dotted_names_resolve() -> None:
    pins = load_pins()
    assert pins.kubernetes.version.startswith("v1.")
    assert pins.get("components.cri-tools") == pins.components.cri_tools
    assert pins.get("kubernetes.staging") == pins.kubernetes.staging
    with pytest.raises(KeyError):
        pins.get("components.nope")


def test_unknown_key_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "versions.toml"
    bad.write_text(pin_file().read_text().replace("[components]", '[components]\nkinnd = "v1"'))
    with pytest.raises(ValidationError, match="kinnd"):
        load_pins(bad)


def test_staging_matches_kubernetes_minor() -> None:
    pins = load_pins()
    _, k_minor, k_patch = pins.kubernetes.version.lstrip("v").split(".")
    assert pins.kubernetes.staging == f"v0.{k_minor}.{k_patch}"
