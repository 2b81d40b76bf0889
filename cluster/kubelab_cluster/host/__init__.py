"""The host under the kind cluster: detect what it lacks and make it usable.

``kubelab-host check`` reports whether this machine can run the cluster (docker CLI,
a reachable engine, capabilities, disk, cgroups); ``kubelab-host setup`` installs and
starts Debian's docker engine when it is missing and, only on hosts whose capability
bounding set is incomplete, registers the ``capfix`` runtime wrapper so that
``docker run --privileged`` (which kind uses for every node) works.
"""
