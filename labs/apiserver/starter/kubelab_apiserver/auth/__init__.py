"""Your authentication modules: ``requestheader.py``; the others are the reference's."""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
