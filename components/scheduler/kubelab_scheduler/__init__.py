"""kube-dev-lab, Chapter 8: a scheduler in the scheduling framework's shape (see README.md)."""
