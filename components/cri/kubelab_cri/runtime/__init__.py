"""The CRI RuntimeService: what the runtime says about itself, then sandboxes and containers."""
