"""kube-dev-lab cluster tooling: pins, caches, the Go toolchain build, images and kind."""
