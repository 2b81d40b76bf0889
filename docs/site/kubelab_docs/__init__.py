"""The documentation site of kube-dev-lab: its build, its checks and its browser test."""
