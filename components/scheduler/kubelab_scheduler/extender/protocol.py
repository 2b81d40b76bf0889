"""The extender protocol (``k8s.io/kube-scheduler/extender/v1``), as pydantic models.

kube-scheduler POSTs JSON to ``urlPrefix/<verb>``; the Go structs have no JSON tags, so the
fields are capitalized (``Pod``, ``Nodes``, ``NodeNames``...). ``Nodes`` is a whole NodeList
unless the extender is ``nodeCacheCapable`` (then ``NodeNames``); the answer uses the same form.
Priorities are 0 to 10 (``MaxExtenderPriority``), multiplied by the extender's weight.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_PRIORITY = 10


class _Go(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ExtenderArgs(_Go):
    pod: dict[str, Any] = Field(alias="Pod")
    nodes: dict[str, Any] | None = Field(default=None, alias="Nodes")
    node_names: list[str] | None = Field(default=None, alias="NodeNames")

    def candidates(self) -> list[str]:
        if self.node_names is not None:
            return list(self.node_names)
        return [str(n["metadata"]["name"]) for n in (self.nodes or {}).get("items") or []]

    def node(self, name: str) -> dict[str, Any] | None:
        return next((n for n in (self.nodes or {}).get("items") or [] if n["metadata"]["name"] == name), None)


class ExtenderFilterResult(_Go):
    nodes: dict[str, Any] | None = Field(default=None, alias="Nodes")
    node_names: list[str] | None = Field(default=None, alias="NodeNames")
    failed_nodes: dict[str, str] = Field(default_factory=dict, alias="FailedNodes")
    failed_and_unresolvable: dict[str, str] = Field(default_factory=dict, alias="FailedAndUnresolvableNodes")
    error: str = Field(default="", alias="Error")


class HostPriority(_Go):
    host: str = Field(alias="Host")
    score: int = Field(alias="Score", ge=0, le=MAX_PRIORITY)


class ExtenderBindingArgs(_Go):
    pod_name: str = Field(alias="PodName")
    pod_namespace: str = Field(alias="PodNamespace")
    pod_uid: str = Field(alias="PodUID")
    node: str = Field(alias="Node")


class ExtenderBindingResult(_Go):
    error: str = Field(default="", alias="Error")
