"""Your kubelab_scheduler for the Chapter 8 lab: only the modules you write live here,
``plugins/tainttoleration.py`` (8.3, the taint filter) and ``queue.py`` (8.4, moving
unschedulable pods on the events that may help them).

Every other module (the cache, the framework, the other plugins, the scheduler's cycles) comes
from the reference package: ``pkgutil.extend_path`` appends the reference's directory to
``__path__``, after this one, so ``kubelab_scheduler.queue`` is *yours* and
``kubelab_scheduler.scheduler`` (which imports it) is the reference's, built on yours. The lab
runs this package in the scheduler's pods (the lab image with it first on PYTHONPATH).

Grade it: ``uv run nox -s lab-scheduler -- --impl labs/scheduler/starter`` (or your copy).
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
if len(__path__) < 2:
    raise ImportError("the reference kubelab_scheduler is not installed: run `uv sync --all-packages`")
