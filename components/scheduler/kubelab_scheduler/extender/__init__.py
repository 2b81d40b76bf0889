"""A scheduler extender (book 8.3): kube-scheduler's HTTP extension, served on FastAPI."""
