"""Exponential backoff with jitter, for the reflector's list and watch retries.

``delay(n) = min(cap, initial * factor**n) * (1 + jitter * U[0, 1))``: the shape of client-go's
``wait.Backoff`` with ``Jitter`` (the reflector's defaults are 800 ms doubling to 30 s, jitter
1.0). ``reset()`` after progress, so one failure after an hour of health starts small again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    initial: float = 0.8
    cap: float = 30.0
    factor: float = 2.0
    jitter: float = 1.0
    rng: random.Random = field(default_factory=random.Random, repr=False)
    steps: int = 0

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.cap < self.initial or self.factor < 1 or self.jitter < 0:
            raise ValueError(f"bad backoff {self}")

    def peek_base(self) -> float:
        """The un-jittered delay the next call to :meth:`next_delay` starts from."""
        return min(self.cap, self.initial * self.factor**self.steps)

    def next_delay(self) -> float:
        base = self.peek_base()
        if base < self.cap:
            self.steps += 1
        return base * (1.0 + self.jitter * self.rng.random())

    def reset(self) -> None:
        self.steps = 0
