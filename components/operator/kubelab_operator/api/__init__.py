"""The CronJob API: Python types per version (``v1`` the hub and storage version, ``v2``), the
marker annotations they carry, and the resource definition the CRD is generated from."""
