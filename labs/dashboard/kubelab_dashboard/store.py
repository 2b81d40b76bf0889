"""Accepted reports on disk: one JSON line per report (``<data>/<class>.jsonl``), appended as it
is accepted and replayed into the board at start, so a restarted dashboard shows the same grid."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from kubelab_labkit.reports.model import Report

log = logging.getLogger(__name__)


class Store:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def path(self, room: str) -> Path:
        return self.directory / f"{room}.jsonl"

    def append(self, room: str, report: Report, received: datetime) -> None:
        line = json.dumps({"received": received.isoformat(), "report": report.model_dump(mode="json")})
        with self.path(room).open("a") as fh:
            fh.write(line + "\n")
            fh.flush()

    def replay(self, room: str) -> Iterator[tuple[Report, datetime]]:
        path = self.path(room)
        if not path.is_file():
            return
        for number, line in enumerate(path.read_text().splitlines(), 1):
            try:
                data = json.loads(line)
                yield Report.model_validate(data["report"]), datetime.fromisoformat(data["received"])
            except (ValueError, KeyError, TypeError, ValidationError) as exc:
                log.warning("%s:%d: left out, not a stored report: %s", path, number, str(exc).splitlines()[0])
