"""Sending a run's report to an instructor's dashboard (``--report-to URL --class-token TOKEN``).

The lab's own result never depends on the dashboard: a refusal or an unreachable dashboard is
said in one line at the end of the run, and the report stays on disk to send again
(``kubelab-labs report send FILE``).
"""

from __future__ import annotations

import httpx

from kubelab_labkit.reports.model import Report

PATH = "/api/reports"


def send(report: Report, url: str, token: str | None, timeout: float = 10.0) -> str:
    """Post ``report``; returns the line to print (accepted, or why not)."""
    if not token:
        return f"report not sent to {url}: no class token (--class-token or $KUBELAB_CLASS_TOKEN)"
    target = url.rstrip("/") + PATH
    try:
        response = httpx.post(
            target,
            content=report.model_dump_json(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        return f"report not sent to {target}: {exc}"
    if response.status_code == 201:
        return f"report sent to {target}"
    try:
        detail = response.json().get("detail", response.text)
    except ValueError:
        detail = response.text
    return f"report refused by {target}: HTTP {response.status_code}: {detail}"
