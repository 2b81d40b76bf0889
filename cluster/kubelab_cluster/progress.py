"""Progress for long steps (builds, images, cluster start): a live spinner with elapsed
time on a terminal, plain start/finish lines in CI logs, and the duration of every step."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

# Wide lines in CI logs; a terminal keeps its own width.
console = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 140)


@dataclass
class StepResult:
    title: str
    seconds: float = 0.0
    note: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@contextmanager
def step(title: str) -> Iterator[StepResult]:
    """Show ``title`` while the body runs, then print how long it took."""
    result = StepResult(title)
    started = time.monotonic()
    if console.is_terminal:
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True
        ) as progress:
            progress.add_task(title, total=None)
            try:
                yield result
            finally:
                result.seconds = time.monotonic() - started
    else:
        console.print(f"→ {title} …")
        try:
            yield result
        finally:
            result.seconds = time.monotonic() - started
    suffix = f" [dim]({result.note})[/dim]" if result.note else ""
    console.print(f"[green]✓[/green] {title} [bold]{result.seconds:.1f} s[/bold]{suffix}")
