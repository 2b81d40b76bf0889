"""student_cni: your CNI plugin for the Chapter 5 lab (a starter; fill in the TODOs in plugin.py and ipam.py).

Grade it with `uv run nox -s lab-cni -- --impl labs/cni/starter/student_cni` (see labs/cni/README.md).
"""
