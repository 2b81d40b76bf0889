"""kubelab-dra: the Chapter 9 DRA driver (resource.k8s.io/v1) for simulated accelerators."""

DRIVER = "dra.kubelab.dev"
"""The driver's name: in ResourceSlices, allocation results, DeviceClass selectors and attribute names."""

CDI_KIND = "dra.kubelab.dev/accelerator"
"""The CDI kind of the devices the driver prepares (one spec file per prepared claim)."""
