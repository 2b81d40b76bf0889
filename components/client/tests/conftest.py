from kubelab_client.testing.fixtures import api, fake, stop

__all__ = ["api", "fake", "stop"]
