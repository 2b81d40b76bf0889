"""kubelab-cri: a CRI v1 container runtime in Python (book chapter 4)."""
