"""``kubelab-cni-agent``: the node agent that makes kubelab-cni the cluster's pod network.

Run as a DaemonSet (hostNetwork, privileged) on every node, it installs the plugin onto the
node, serves the plugin daemon on the node's socket, writes the node's configuration list
(and disables every other one), and keeps a route to every other node's podCIDR.

- ``main.py``: the agent (start-up order, periodic resync) and its command line;
- ``nodewatch.py``: the cluster's nodes through the Chapter 2 informer; ``nodeinfo.py``: the
  fields of a Node it uses;
- ``install.py``: the plugin's files on the node; ``netconf.py``: the network configuration;
  ``routes.py``: the routes to the other nodes' pods; ``hostpaths.py``: the node's paths.
"""
