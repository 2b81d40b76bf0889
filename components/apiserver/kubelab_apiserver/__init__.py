"""kube-dev-lab Chapter 7: extending the API server."""
