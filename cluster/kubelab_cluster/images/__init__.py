"""Images built without any registry: the kind node image, the control-plane images it
preloads, and the lab image for in-cluster Python components."""
