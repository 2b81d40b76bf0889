"""The report as JUnit XML, the format CI systems and test dashboards read: one testsuite (the
lab), one testcase per checkpoint in order; a checkpoint not reached is a skipped testcase that
says so, and a failure carries its hints."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from kubelab_labkit.reports.model import Outcome, Report

NOT_REACHED = "not reached: an earlier checkpoint failed and the lab stops at the first failure"


def render(report: Report) -> str:
    suite = ET.Element(
        "testsuite",
        name=f"lab-{report.lab}",
        tests=str(len(report.checkpoints)),
        failures=str(report.count(Outcome.FAILED)),
        errors="0",
        skipped=str(report.count(Outcome.SKIPPED) + report.count(Outcome.NOT_REACHED)),
        time=f"{report.seconds:.3f}",
        timestamp=report.started.isoformat(timespec="seconds"),
    )
    props = ET.SubElement(suite, "properties")
    graded = report.graded
    for name, value in (
        ("student", report.student),
        ("chapter", str(report.chapter)),
        ("graded", "reference" if graded.reference else f"--impl {graded.path}"),
        ("commit", graded.commit or ""),
        ("dirty", "" if graded.dirty is None else str(graded.dirty).lower()),
        ("digest", graded.digest or ""),
    ):
        ET.SubElement(props, "property", name=name, value=value)
    for checkpoint in report.checkpoints:
        file, _, name = checkpoint.id.partition("::")
        classname = file.removesuffix(".py").replace("/", ".")
        case = ET.SubElement(suite, "testcase", classname=classname, name=name, time=f"{checkpoint.seconds:.3f}")
        if checkpoint.outcome is Outcome.FAILED:
            failure = ET.SubElement(
                case, "failure", message=checkpoint.message.splitlines()[0][:500] if checkpoint.message else "failed"
            )
            failure.text = "\n".join([checkpoint.message, *checkpoint.hints])
        elif checkpoint.outcome is Outcome.SKIPPED:
            ET.SubElement(case, "skipped", message=checkpoint.message)
        elif checkpoint.outcome is Outcome.NOT_REACHED:
            ET.SubElement(case, "skipped", type="not-reached", message=NOT_REACHED)
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
