"""Your webhooks: ``validation.py``; the rest (defaulting, the FastAPI app, certificates) is the reference's."""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
