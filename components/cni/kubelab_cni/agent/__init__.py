"""``kubelab-cni-agent``: the node agent that makes kubelab-cni the cluster's pod network.

Run as a DaemonSet (hostNetwork, privileged) on every node, it installs the plugin onto the
node, serves the plugin daemon on the node's socket, writes the node's configuration list
(and disables every other one), and keeps a route to every other node's podCIDR.
"""
