"""The configuration file: upstream's defaults, a profile's changes, errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelab_scheduler.config import ConfigError, Profile, enabled_plugins, load
from kubelab_scheduler.framework.runtime import Framework, Handle, implemented_points
from kubelab_scheduler.plugins.registry import in_tree

IMPLEMENTS = {name: implemented_points(cls) for name, (cls, _f) in in_tree().items()}


def test_defaults_are_upstreams() -> None:
    score = enabled_plugins(Profile(), "score", IMPLEMENTS)
    assert score == [
        ("TaintToleration", 3),
        ("NodeAffinity", 2),
        ("NodeResourcesFit", 1),
        ("PodTopologySpread", 2),
        ("NodeResourcesBalancedAllocation", 1),
    ]
    assert [n for n, _ in enabled_plugins(Profile(), "filter", IMPLEMENTS)] == [
        "NodeUnschedulable",
        "NodeName",
        "TaintToleration",
        "NodeAffinity",
        "NodeResourcesFit",
        "PodTopologySpread",
    ]
    assert enabled_plugins(Profile(), "bind", IMPLEMENTS) == [("DefaultBinder", 0)]


def test_a_profile_disables_reweights_and_configures(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("""
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
podMaxBackoffSeconds: 5
profiles:
  - schedulerName: packer
    plugins:
      score:
        disabled: [{name: "*"}]
        enabled: [{name: NodeResourcesFit, weight: 5}]
    pluginConfig:
      - name: NodeResourcesFit
        args: {scoringStrategy: {type: MostAllocated}}
""")
    config = load(path)
    assert config.pod_max_backoff_seconds == 5 and config.pod_initial_backoff_seconds == 1
    (profile,) = config.profiles
    fwk = Framework(profile, in_tree(), Handle())
    assert [p.name for p in fwk.points["score"]] == ["NodeResourcesFit"] and fwk.weights == {"NodeResourcesFit": 5}
    assert fwk.plugins["NodeResourcesFit"].strategy == "MostAllocated"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("profiles: [{schedulerName: a}, {schedulerName: a}]", "schedulerName repeated"),
        ("podMaxBackoffSeconds: -1", "podMaxBackoffSeconds: Input should be greater than 0"),
        ("profiles: [{schedulerz: a}]", "profiles.0.schedulerz: Extra inputs are not permitted"),
        ("kind: Pod", "kind: Input should be 'KubeSchedulerConfiguration'"),
    ],
)
def test_bad_files_name_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load(path)


def test_unknown_or_misplaced_plugins() -> None:
    bad = Profile.model_validate({"plugins": {"filter": {"enabled": [{"name": "Nope"}]}}})
    with pytest.raises(ConfigError, match="no plugin named 'Nope'"):
        enabled_plugins(bad, "filter", IMPLEMENTS)
    misplaced = Profile.model_validate({"plugins": {"bind": {"enabled": [{"name": "NodeAffinity"}]}}})
    with pytest.raises(ConfigError, match="NodeAffinity does not implement bind"):
        enabled_plugins(misplaced, "bind", IMPLEMENTS)


def test_the_command_line_prints_the_plugins_and_refuses_bad_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kubelab_scheduler.cli import main

    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "profile kubelab-scheduler:" in out and "NodeResourcesFit(1)" in out and "bind        DefaultBinder" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("profiles: [{plugins: {filter: {enabled: [{name: Nope}]}}}]")
    assert main(["plugins", "--config", str(bad)]) == 1
    assert "no plugin named 'Nope'" in capsys.readouterr().err


def test_client_limits_default_to_kube_schedulers_and_are_read(tmp_path: Path) -> None:
    assert (load(None).client_connection.qps, load(None).client_connection.burst) == (50.0, 100)
    path = tmp_path / "config.yaml"
    path.write_text(
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
        "clientConnection: {qps: 200, burst: 400}\n"
    )
    got = load(path).client_connection
    assert (got.qps, got.burst) == (200.0, 400)
    path.write_text("clientConnection: {qps: 10, burst: 0}\n")
    with pytest.raises(ConfigError, match="burst"):
        load(path)
