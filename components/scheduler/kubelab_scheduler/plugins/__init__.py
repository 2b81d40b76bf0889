"""The in-tree plugins this scheduler has, named as upstream's (registry.py lists them)."""
