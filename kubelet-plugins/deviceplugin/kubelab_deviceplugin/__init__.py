"""kubelab-deviceplugin: simulated accelerators offered to the kubelet's device manager (Chapter 9).

The devices of a node are listed in a file on it (:mod:`~kubelab_deviceplugin.inventory`); the
plugin serves ``v1beta1.DevicePlugin`` (:mod:`~kubelab_deviceplugin.service`) on a socket in the
kubelet's device-plugins folder, registers with the kubelet and registers again whenever the
kubelet restarts (:mod:`~kubelab_deviceplugin.plugin`). Each allocated device reaches the
container three ways: an environment variable, a read-only mount of its folder, and a CDI device
(:mod:`~kubelab_deviceplugin.cdi`) that the runtime applies.
"""

RESOURCE = "kubelab.dev/accelerator"
"""The extended resource pods request (``resources.limits``)."""
