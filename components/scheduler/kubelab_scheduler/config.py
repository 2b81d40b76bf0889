"""The scheduler's configuration file: upstream's ``KubeSchedulerConfiguration``
(``kubescheduler.config.k8s.io/v1``), the part this scheduler implements.

Profiles, each with its ``schedulerName``, its plugins and their arguments; plugins are
enabled as upstream does it: the default set at every extension point a plugin implements
(``multiPoint``), then each point's ``disabled`` (``"*"``: all of the defaults) and
``enabled`` (appended, or the weight changed). Score weights default to upstream's.

    apiVersion: kubescheduler.config.k8s.io/v1
    kind: KubeSchedulerConfiguration
    profiles:
      - schedulerName: kubelab-scheduler
        plugins:
          score:
            enabled: [{name: NodeResourcesBalancedAllocation, weight: 2}]
        pluginConfig:
          - name: NodeResourcesFit
            args: {scoringStrategy: {type: MostAllocated}}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kubelab_kit.errors import KubelabError

POINTS = (
    "queueSort", "preFilter", "filter", "postFilter", "preScore", "score", "reserve", "permit", "preBind", "bind",
    "postBind",
)  # fmt: skip
DEFAULT_SCHEDULER_NAME = "kubelab-scheduler"
# upstream's default plugins (pkg/scheduler/apis/config/v1/default_plugins.go) that this scheduler has,
# with their score weights
DEFAULT_PLUGINS: list[tuple[str, int]] = [
    ("PrioritySort", 0),
    ("NodeUnschedulable", 0),
    ("NodeName", 0),
    ("TaintToleration", 3),
    ("NodeAffinity", 2),
    ("NodeResourcesFit", 1),
    ("PodTopologySpread", 2),
    ("NodeResourcesBalancedAllocation", 1),
    ("DefaultPreemption", 0),
    ("DefaultBinder", 0),
]


class ConfigError(KubelabError):
    """The configuration file cannot be used; the message names the field."""

    area = "scheduler"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PluginRef(_Strict):
    name: str
    weight: int | None = Field(default=None, ge=0, le=100)


class PluginSet(_Strict):
    enabled: list[PluginRef] = []
    disabled: list[PluginRef] = []


class Plugins(_Strict):
    multi_point: PluginSet = Field(default_factory=PluginSet, alias="multiPoint")
    queue_sort: PluginSet = Field(default_factory=PluginSet, alias="queueSort")
    pre_filter: PluginSet = Field(default_factory=PluginSet, alias="preFilter")
    filter: PluginSet = Field(default_factory=PluginSet)
    post_filter: PluginSet = Field(default_factory=PluginSet, alias="postFilter")
    pre_score: PluginSet = Field(default_factory=PluginSet, alias="preScore")
    score: PluginSet = Field(default_factory=PluginSet)
    reserve: PluginSet = Field(default_factory=PluginSet)
    permit: PluginSet = Field(default_factory=PluginSet)
    pre_bind: PluginSet = Field(default_factory=PluginSet, alias="preBind")
    bind: PluginSet = Field(default_factory=PluginSet)
    post_bind: PluginSet = Field(default_factory=PluginSet, alias="postBind")

    def at(self, point: str) -> PluginSet:
        found: PluginSet = getattr(self, _snake(point))
        return found


class PluginConfig(_Strict):
    name: str
    args: dict[str, Any] = {}


class Profile(_Strict):
    scheduler_name: str = Field(default=DEFAULT_SCHEDULER_NAME, alias="schedulerName")
    plugins: Plugins = Field(default_factory=Plugins)
    plugin_config: list[PluginConfig] = Field(default=[], alias="pluginConfig")

    def args(self, plugin: str) -> dict[str, Any]:
        return next((c.args for c in self.plugin_config if c.name == plugin), {})


class LeaderElection(_Strict):
    leader_elect: bool = Field(default=False, alias="leaderElect")
    resource_name: str = Field(default=DEFAULT_SCHEDULER_NAME, alias="resourceName")
    resource_namespace: str = Field(default="kube-system", alias="resourceNamespace")


class ClientConnection(_Strict):
    """The API client's throttle, upstream's defaults (client-go's QPS/Burst): every request of
    the scheduler waits for a token; events have their own client and bucket, as upstream's."""

    qps: float = Field(default=50.0, ge=0)
    burst: int = Field(default=100, ge=1)


class SchedulerConfiguration(_Strict):
    api_version: Literal["kubescheduler.config.k8s.io/v1"] = Field(
        default="kubescheduler.config.k8s.io/v1", alias="apiVersion"
    )
    kind: Literal["KubeSchedulerConfiguration"] = "KubeSchedulerConfiguration"
    pod_initial_backoff_seconds: float = Field(default=1.0, gt=0, alias="podInitialBackoffSeconds")
    pod_max_backoff_seconds: float = Field(default=10.0, gt=0, alias="podMaxBackoffSeconds")
    parallelism: int = Field(default=16, ge=1)
    leader_election: LeaderElection = Field(default_factory=LeaderElection, alias="leaderElection")
    client_connection: ClientConnection = Field(default_factory=ClientConnection, alias="clientConnection")
    profiles: list[Profile] = Field(default_factory=lambda: [Profile()])


def _snake(point: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in point)


def load(path: Path | None) -> SchedulerConfiguration:
    """The file's configuration (defaults where it is silent), or :class:`ConfigError` naming the field."""
    if path is None:
        return SchedulerConfiguration()
    try:
        data = yaml.safe_load(path.read_text()) or {}
        config = SchedulerConfiguration.model_validate(data)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not YAML: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}", fix="see KubeSchedulerConfiguration v1") from exc
    names = [p.scheduler_name for p in config.profiles]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: profiles: schedulerName repeated ({names})")
    return config


def enabled_plugins(profile: Profile, point: str, implements: dict[str, set[str]]) -> list[tuple[str, int]]:
    """(plugin, weight) at ``point``, in order: the defaults that implement it, then the profile's changes.

    ``implements`` maps each known plugin to the points it implements.
    """
    multi = [(n, w) for n, w in DEFAULT_PLUGINS]
    for ref in profile.plugins.multi_point.disabled:
        multi = [] if ref.name == "*" else [(n, w) for n, w in multi if n != ref.name]
    for ref in profile.plugins.multi_point.enabled:
        multi = [(n, w) for n, w in multi if n != ref.name] + [(ref.name, ref.weight or 1)]
    chosen = [(n, w) for n, w in multi if point in implements.get(n, set())]
    changes = profile.plugins.at(point)
    for ref in changes.disabled:
        chosen = [] if ref.name == "*" else [(n, w) for n, w in chosen if n != ref.name]
    for ref in changes.enabled:
        default = next((w for n, w in DEFAULT_PLUGINS if n == ref.name), 1)
        weight = ref.weight if ref.weight is not None else (default or 1)
        chosen = [(n, w) for n, w in chosen if n != ref.name] + [(ref.name, weight)]
    for name, _ in chosen:
        if name not in implements:
            raise ConfigError(f"profile {profile.scheduler_name}: {point}: no plugin named {name!r}")
        if point not in implements[name]:
            raise ConfigError(f"profile {profile.scheduler_name}: {point}: plugin {name} does not implement {point}")
    return chosen
