"""The lab's starter (labs/operator/starter) overlays the reference: its two modules are the
student's, every other module the reference's; untouched, its exercises do nothing yet."""

from __future__ import annotations

from pathlib import Path

from kubelab_kit.testing import run_python

STARTER = Path(__file__).resolve().parents[3] / "labs" / "operator" / "starter"

PROBE = """
import kubelab_operator.controller.reconcile as reconcile, kubelab_operator.schedule as schedule
import kubelab_operator.webhooks.app as app, kubelab_operator.webhooks.validation as validation
from datetime import UTC, datetime
print(schedule.__file__, validation.__file__, reconcile.__file__, app.__file__, sep="\\n")
print(validation.validate({"metadata": {"name": "x" * 60}, "spec": {"schedule": "bad"}}))
try:
    schedule.missed_and_next(schedule.parse("* * * * *"), now=datetime.now(UTC), created=datetime.now(UTC))
except NotImplementedError as exc:
    print(exc)
"""


def test_the_starter_overlays_the_reference() -> None:
    proc = run_python(PROBE, pythonpath=str(STARTER))
    assert proc.returncode == 0, proc.stderr
    sched, valid, reconcile, app, errors, todo = proc.stdout.splitlines()
    assert sched.startswith(str(STARTER)) and valid.startswith(str(STARTER))
    assert not reconcile.startswith(str(STARTER)) and reconcile.endswith("controller/reconcile.py")
    assert not app.startswith(str(STARTER))
    assert errors == "[]"  # the validation rules are the exercise
    assert todo == "TODO(3.1): the latest missed run and the next one"
