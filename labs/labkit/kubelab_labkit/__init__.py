"""The lab kit: everything a lab's checkpoints share, loaded as a pytest plugin by labs/conftest.py.

Modules, one concept each:

| module | what it holds |
| --- | --- |
| ``registry`` | ``labs/<name>/lab.toml`` as a typed model: chapter, sections, status, ``[impl]``, starters |
| ``plugin`` | the pytest plugin: options, fixtures (cluster, kubectl, namespaces, lab image, impl), hints |
| ``kube`` | ``apply``, ``delete``, ``wait_for``, ``rollout``: one signature each, objects or manifest text |
| ``objects`` | builders for what checkpoints write inline: RBAC, ServiceAccount, Service, ConfigMap, Namespace |
| ``pods`` | a pod pinned to a node, waiting for a phase (logs and events on failure), run to completion |
| ``nodes`` | the cluster's nodes and running a command in one (``docker exec``) |
| ``waiting`` | ``eventually`` |
| ``images`` | delivering an image to every kind node |
| ``namespaces`` | the namespace factory behind the ``namespace`` fixtures |
| ``impl`` | ``--impl``: what a student hands in, checked and located once, per ``[impl] kind`` |
| ``hints`` | the ``Hint:`` lines printed under a failed checkpoint, or a failed fixture |
| ``manifests`` | rendering and applying a component's own manifests (``components/<x>/deploy/``) |
| ``starters`` | generating starters from the reference by solution markers |
| ``tables`` | the lab table of README.md and docs/index.md, generated from the registry |
"""
