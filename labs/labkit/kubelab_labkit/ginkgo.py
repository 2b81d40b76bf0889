"""A Ginkgo suite's JSON report (``-ginkgo.json-report``), summed up per Describe group, and the
table of ``-ginkgo.skip`` patterns with their reasons: what critest, csi-sanity and Kubernetes'
e2e.test runs have in common.

A spec's group is its outermost container (``[k8s.io] Container`` → ``Container``). Outcomes:
passed; failed (Ginkgo's failed, panicked, timedout, interrupted, aborted); skipped, either by
one of our ``-ginkgo.skip`` patterns (the reason from the table) or by the spec itself at run
time (``Skip("...")``: its message is the reason).

A skip pattern is a Go regular expression matched (by Ginkgo) against a spec's full text: its
Describe/Context texts and its It text, joined by spaces. A skip with a ``when`` applies only
when that check of this host says so; the rest always apply.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class Skip:
    pattern: str
    reason: str
    when: Callable[[], bool] | None = None

    def applies(self) -> bool:
        return self.when is None or self.when()

    def matches(self, spec_text: str) -> bool:
        return re.search(self.pattern, spec_text) is not None


def skip_flags(skips: list[Skip]) -> list[str]:
    return [f"-ginkgo.skip={s.pattern}" for s in skips]


def reason_for(spec_text: str, skips: list[Skip]) -> Skip | None:
    """The first skip of ours that matches; None for a spec that skipped itself at run time."""
    return next((s for s in skips if s.matches(spec_text)), None)


FAILED_STATES = {"failed", "panicked", "timedout", "interrupted", "aborted"}


@dataclass(frozen=True)
class Spec:
    group: str
    text: str  # the full text Ginkgo matches -ginkgo.skip against
    name: str  # the text below the group
    state: str  # passed | failed | skipped
    message: str  # the failure's (or the run-time skip's) message
    location: str
    seconds: float


@dataclass
class Group:
    passed: int = 0
    failed: int = 0
    skipped: int = 0


@dataclass
class Summary:
    specs: list[Spec]
    groups: dict[str, Group] = field(default_factory=dict)
    suite_failure: str = ""  # a BeforeSuite/AfterSuite failure, if any

    @property
    def passed(self) -> int:
        return sum(g.passed for g in self.groups.values())

    @property
    def failed(self) -> int:
        return sum(g.failed for g in self.groups.values())

    @property
    def skipped(self) -> int:
        return sum(g.skipped for g in self.groups.values())

    @property
    def pass_percent(self) -> float:
        ran = self.passed + self.failed
        return 100.0 * self.passed / ran if ran else 0.0


def _spec(report: dict[str, Any]) -> Spec:
    containers = [str(t) for t in report.get("ContainerHierarchyTexts") or []]
    leaf = str(report.get("LeafNodeText", ""))
    group = (containers[0] if containers else "(top level)").removeprefix("[k8s.io] ")
    state = str(report.get("State", ""))
    state = "failed" if state in FAILED_STATES else state
    failure = report.get("Failure") or {}
    where = failure.get("Location") or {}
    location = f"{Path(str(where.get('FileName', ''))).name}:{where.get('LineNumber', '')}" if where else ""
    return Spec(
        group=group,
        text=" ".join([*containers, leaf]),
        name=" ".join([*containers[1:], leaf]),
        state=state,
        message=str(failure.get("Message", "")).strip(),
        location=location,
        seconds=float(report.get("RunTime", 0)) / 1e9,
    )


def load(path: Path, keep: Callable[[str], bool] | None = None) -> Summary:
    """The report's specs by group; with ``keep``, only the specs whose full text it accepts (a suite
    of thousands run with a focus: the rest would be thousands of "not selected" lines)."""
    suites = json.loads(path.read_text())
    summary = Summary(specs=[])
    for suite in suites:
        for report in suite.get("SpecReports") or []:
            kind = report.get("LeafNodeType")
            if kind in {"BeforeSuite", "AfterSuite", "SynchronizedBeforeSuite", "SynchronizedAfterSuite"}:
                if report.get("State") in FAILED_STATES:
                    summary.suite_failure = str((report.get("Failure") or {}).get("Message", "")).strip()
                continue
            if kind != "It":
                continue
            spec = _spec(report)
            if keep is not None and not keep(spec.text):
                continue
            summary.specs.append(spec)
            group = summary.groups.setdefault(spec.group, Group())
            if spec.state == "passed":
                group.passed += 1
            elif spec.state == "failed":
                group.failed += 1
            else:
                group.skipped += 1
    return summary


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def failure_line(message: str, width: int = 240) -> str:
    """The failure's first line; Gomega's bare "Expected" / "Unexpected error:" with what follows,
    and a gRPC error with its status ("code = ... desc = ...")."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return ""
    text = lines[0]
    grpc = next((line for line in lines if "code = " in line), "")
    if grpc:
        text += " — " + grpc[grpc.index("code = ") :]
    elif text in {"Expected", "Unexpected error:"} or text.endswith(":"):
        text = " ".join(lines[:4])
    return text if len(text) <= width else text[: width - 1] + "…"


def group_table(summary: Summary, title: str) -> Table:
    table = Table(title=title)
    for column in ("group", "passed", "failed", "skipped", "pass % (run)"):
        table.add_column(column, justify="left" if column == "group" else "right")
    for name, g in sorted(summary.groups.items()):
        ran = g.passed + g.failed
        table.add_row(name, str(g.passed), str(g.failed), str(g.skipped), f"{100 * g.passed / ran:.0f}" if ran else "-")
    table.add_section()
    table.add_row(
        "total", str(summary.passed), str(summary.failed), str(summary.skipped), f"{summary.pass_percent:.1f}"
    )
    return table


def skip_table(summary: Summary, skips: list[Skip]) -> Table:
    """Every skip reason with its count: ours (pattern → reason), then the specs' own."""
    ours: Counter[Skip] = Counter()
    own: Counter[str] = Counter()
    for spec in summary.specs:
        if spec.state != "skipped":
            continue
        skip = reason_for(spec.text, skips)
        if skip is not None:
            ours[skip] += 1
        else:
            own[first_line(spec.message) or "not selected (-ginkgo.focus)"] += 1
    table = Table(title="skipped, and why")
    table.add_column("by")
    table.add_column("specs", justify="right")
    table.add_column("reason")
    for skip in skips:
        table.add_row(f"-ginkgo.skip={skip.pattern}", str(ours[skip]), skip.reason)
    for message, count in own.most_common():
        table.add_row("the spec itself (Skip)", str(count), message)
    return table


def print_failures(console: Console, summary: Summary) -> None:
    console.print("[bold]failed specs[/bold] (group: spec — where: first line of the failure)")
    for spec in summary.specs:
        if spec.state == "failed":
            console.print(
                f"- {spec.group}: {spec.name}\n    {spec.location}: {failure_line(spec.message)}", soft_wrap=True
            )


def print_summary(console: Console, summary: Summary, skips: list[Skip], title: str) -> None:
    """The per-group table (titled ``title``), the skips and why, the failures, the pass rate."""
    console.print(group_table(summary, title))
    console.print(skip_table(summary, skips))
    if summary.failed:
        print_failures(console, summary)
    if summary.suite_failure:
        console.print(f"[red]suite setup/teardown failed:[/red] {first_line(summary.suite_failure)}")
    console.print(
        f"pass rate {summary.pass_percent:.1f}% ({summary.passed} of {summary.passed + summary.failed} run; "
        f"{summary.skipped} skipped)"
    )
