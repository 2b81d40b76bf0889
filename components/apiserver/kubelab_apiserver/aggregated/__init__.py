"""Chapter 7.4: an aggregated API server in Python, served behind kube-apiserver's aggregator."""
