"""kubelab-cni: a CNI 1.1.0 bridge plugin with host-local style IPAM, shaped as a thick plugin.

Keep this file empty of imports: the shim imports the package on every plugin call.
"""
