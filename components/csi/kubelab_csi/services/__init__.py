"""The three CSI services: Identity, Controller, Node (one servicer each, on one socket)."""
