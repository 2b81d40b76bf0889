"""kubelab-client."""
