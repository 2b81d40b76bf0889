"""kubelab-credential-provider: the Chapter 9 kubelet image credential provider (an exec plugin)."""
