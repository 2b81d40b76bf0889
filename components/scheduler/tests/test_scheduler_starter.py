"""The lab's starter (labs/scheduler/starter) overlays the reference: its two modules are the
student's, every other module the reference's; untouched, its exercises do nothing yet."""

from __future__ import annotations

from pathlib import Path

from kubelab_kit.testing import run_python

STARTER = Path(__file__).resolve().parents[3] / "labs" / "scheduler" / "starter"

PROBE = """
import kubelab_scheduler.queue as queue, kubelab_scheduler.plugins.tainttoleration as taints
import kubelab_scheduler.scheduler as scheduler, kubelab_scheduler.plugins.noderesources as fit
from kubelab_scheduler.framework.runtime import Handle
from kubelab_scheduler.nodeinfo import NodeInfo
print(queue.__file__, taints.__file__, scheduler.__file__, fit.__file__, sep="\\n")
node = NodeInfo({"metadata": {"name": "cp"}, "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]}})
print(taints.TaintToleration({}, Handle()).filter({}, {"spec": {}}, node).is_success)
try:
    queue.SchedulingQueue(lambda a, b: False).move_all_to_active_or_backoff("NodeAdd")
except NotImplementedError as exc:
    print(exc)
"""


def test_the_starter_overlays_the_reference() -> None:
    proc = run_python(PROBE, pythonpath=str(STARTER))
    assert proc.returncode == 0, proc.stderr
    queue, taints, scheduler, fit, accepted, todo = proc.stdout.splitlines()
    assert queue.startswith(str(STARTER)) and taints.startswith(str(STARTER))
    assert not scheduler.startswith(str(STARTER)) and not fit.startswith(str(STARTER))
    assert accepted == "True"  # the taint filter is the exercise
    assert todo == "TODO(8.4): move the pods this event may help"
