"""Resource amounts as the scheduler counts them (upstream ``framework.Resource``).

CPU in millicores, memory and ephemeral storage in bytes, every other resource (``pods``,
extended resources such as ``example.com/gpu``, hugepages) as a whole number. A pod's request
is what upstream's ``computePodResourceRequest`` says: the sum over its containers, at least the
largest init container (restartable "sidecar" init containers add to both), plus its overhead.
For scoring, a container that requests no CPU or memory counts as 100m and 200 MiB
(upstream's non-zero defaults), so empty pods do not all pile onto one node.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kubernetes.utils import parse_quantity

CPU, MEMORY, PODS = "cpu", "memory", "pods"
DEFAULT_MILLI_CPU = 100
DEFAULT_MEMORY = 200 * 1024 * 1024


def amount(name: str, quantity: Any) -> int:
    """``quantity`` ("500m", "1Gi", 2) in the scheduler's unit for ``name``: millicores for cpu."""
    value: Decimal = parse_quantity(str(quantity))  # type: ignore[no-untyped-call]
    return math.ceil(value * 1000) if name == CPU else math.ceil(value)


@dataclass
class Resources:
    """A bag of amounts: ``values[name]`` (missing means 0)."""

    values: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, quantities: Mapping[str, Any] | None) -> Resources:
        return cls({name: amount(name, q) for name, q in (quantities or {}).items()})

    def get(self, name: str) -> int:
        return self.values.get(name, 0)

    def add(self, other: Resources) -> None:
        for name, value in other.values.items():
            self.values[name] = self.values.get(name, 0) + value

    def subtract(self, other: Resources) -> None:
        for name, value in other.values.items():
            self.values[name] = self.values.get(name, 0) - value

    def max_with(self, other: Resources) -> None:
        for name, value in other.values.items():
            self.values[name] = max(self.values.get(name, 0), value)

    def copy(self) -> Resources:
        return Resources(dict(self.values))

    def names(self) -> Iterable[str]:
        return self.values.keys()


def _requests(container: Mapping[str, Any]) -> Resources:
    return Resources.of((container.get("resources") or {}).get("requests"))


def pod_requests(pod: Mapping[str, Any]) -> Resources:
    """The pod's effective request (containers, init containers, sidecars, overhead)."""
    spec = pod.get("spec") or {}
    total = Resources()
    for container in spec.get("containers") or []:
        total.add(_requests(container))
    sidecars = Resources()
    for init in spec.get("initContainers") or []:
        request = _requests(init)
        if init.get("restartPolicy") == "Always":  # a sidecar runs beside what follows it
            sidecars.add(request)
            total.add(request)
        else:
            needed = sidecars.copy()
            needed.add(request)
            total.max_with(needed)
    total.add(Resources.of(spec.get("overhead")))
    return total


def non_zero_requests(pod: Mapping[str, Any]) -> tuple[int, int]:
    """(millicores, bytes) for scoring: containers without a CPU or memory request count the defaults."""
    cpu = memory = 0
    for container in (pod.get("spec") or {}).get("containers") or []:
        requests = (container.get("resources") or {}).get("requests") or {}
        cpu += amount(CPU, requests[CPU]) if CPU in requests else DEFAULT_MILLI_CPU
        memory += amount(MEMORY, requests[MEMORY]) if MEMORY in requests else DEFAULT_MEMORY
    return cpu, memory
