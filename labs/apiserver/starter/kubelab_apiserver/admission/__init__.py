"""Your admission module: ``rules.py`` (7.3); the webhook and the registrations are the reference's."""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
