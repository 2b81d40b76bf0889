"""The report's pytest side: every collected checkpoint starts as *not reached*; each phase's
outcome and time is recorded as it runs; at the end the JSON document and the JUnit XML are
written (and posted with ``--report-to``), and the table is printed.

Options (also from the environment, for classrooms that set them once):

- ``--student NAME`` (``$KUBELAB_STUDENT``; else git's user.name, else the login name);
- ``--report-dir DIR`` (``$KUBELAB_REPORT_DIR``; default ``<cache>/reports/<checkout>``):
  ``<lab>.json`` and ``<lab>.junit.xml``;
- ``--report-to URL`` (``$KUBELAB_REPORT_TO``) and ``--class-token TOKEN``
  (``$KUBELAB_CLASS_TOKEN``): post the report to an instructor's dashboard.
"""

from __future__ import annotations

import getpass
import os
import re
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kubelab_cluster.cache import cache_root, checkout_key
from kubelab_kit.files import atomic_write
from kubelab_labkit import hints
from kubelab_labkit.reports import junit, post, table
from kubelab_labkit.reports.model import STUDENT, Checkpoint, Graded, Outcome, Report

ENV = {
    "--student": "KUBELAB_STUDENT",
    "--report-dir": "KUBELAB_REPORT_DIR",
    "--report-to": "KUBELAB_REPORT_TO",
    "--class-token": "KUBELAB_CLASS_TOKEN",
}


def add_options(group: pytest.OptionGroup) -> None:
    group.addoption("--student", default=None, help="whose run this is, in the report (default: git user.name)")
    group.addoption("--report-dir", default=None, help="where the run's report goes (default: the cache)")
    group.addoption("--report-to", default=None, help="an instructor dashboard's URL: the report is posted there")
    group.addoption("--class-token", default=None, help="the class token the dashboard gave (with --report-to)")


def option(config: pytest.Config, name: str) -> str | None:
    value = config.getoption(name)
    return str(value) if value else os.environ.get(ENV[name]) or None


def default_student() -> str:
    proc = subprocess.run(["git", "config", "user.name"], capture_output=True, text=True, check=False)
    name = proc.stdout.strip() if proc.returncode == 0 else ""
    return name or getpass.getuser()


def report_dir(config: pytest.Config) -> Path:
    given = option(config, "--report-dir")
    return Path(given) if given else cache_root() / "reports" / checkout_key()


@dataclass
class _Result:
    name: str
    outcome: Outcome = Outcome.NOT_REACHED
    seconds: float = 0.0
    message: str = ""
    hints: list[str] = field(default_factory=list)


def _message(report: pytest.TestReport) -> str:
    """A failure's crash line (an assertion's whole message), or a skip's reason."""
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")[:2000]
    crash = getattr(report.longrepr, "reprcrash", None)
    message = str(getattr(crash, "message", "") or "")
    if message:
        return message.strip()[:2000]
    lines = report.longreprtext.strip().splitlines()
    return lines[-1].strip()[:2000] if lines else ""


class Collector:
    """Registered by the kit's plugin for a run of one lab."""

    def __init__(self, config: pytest.Config, lab: str, chapter: int, graded: Graded) -> None:
        self.config = config
        self.lab, self.chapter, self.graded = lab, chapter, graded
        student = option(config, "--student") or default_student()
        if not re.match(STUDENT, student):
            raise pytest.UsageError(
                f"--student {student!r}: use 1 to 64 letters, digits, spaces and ._@+- (a letter or digit first)"
            )
        self.student = student
        self.started = datetime.now(UTC)
        self.results: dict[str, _Result] = {}
        self.report: Report | None = None
        self.written: list[Path] = []
        self.posted: str = ""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.results = {item.nodeid: _Result(item.name) for item in items}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = self.results.get(report.nodeid)
        if result is None:
            return
        result.seconds += report.duration
        if report.failed:
            if result.outcome is not Outcome.FAILED:
                result.outcome, result.message = Outcome.FAILED, _message(report)
            result.hints += [
                line for title, text in report.sections if title == hints.SECTION for line in text.split("\n")
            ]
        elif report.skipped and result.outcome is Outcome.NOT_REACHED:
            result.outcome, result.message = Outcome.SKIPPED, _message(report)
        elif report.when == "call" and report.passed and result.outcome is Outcome.NOT_REACHED:
            result.outcome = Outcome.PASSED

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.results:
            return
        self.report = Report(
            student=self.student, lab=self.lab, chapter=self.chapter, graded=self.graded,
            started=self.started, finished=datetime.now(UTC),
            checkpoints=[
                Checkpoint(id=nodeid, name=r.name, outcome=r.outcome, seconds=round(r.seconds, 3), message=r.message,
                           hints=list(dict.fromkeys(r.hints)))
                for nodeid, r in self.results.items()
            ],
        )  # fmt: skip
        out = report_dir(self.config)
        out.mkdir(parents=True, exist_ok=True)
        for path, text in (
            (out / f"{self.lab}.json", self.report.model_dump_json(indent=2) + "\n"),
            (out / f"{self.lab}.junit.xml", junit.render(self.report)),
        ):
            atomic_write(path, text)
            self.written.append(path)
        url = option(self.config, "--report-to")
        if url:
            self.posted = post.send(self.report, url, option(self.config, "--class-token"))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.report is None:
            return
        terminalreporter.section(f"lab {self.lab}: report")
        terminalreporter.write(table.render(self.report, width=terminalreporter._tw.fullwidth))
        for path in self.written:
            terminalreporter.write_line(f"report: {path}")
        if self.posted:
            terminalreporter.write_line(self.posted)
