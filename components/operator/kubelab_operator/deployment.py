"""Where the operator runs: the names its manifests (``components/operator/deploy``) and its
certificate manager share. One place, so the CRD's conversion webhook, the webhook
configurations and the serving certificate's names agree."""

from __future__ import annotations

NAMESPACE = "kubelab-operator-system"
NAME = "kubelab-operator"
SERVICE = "kubelab-operator-webhook"  # the webhook Service (port 443 → the pods' webhook port)
TLS_SECRET = "kubelab-operator-webhook-tls"
LEASE = "kubelab-operator-leader"
MUTATING_WEBHOOK = "kubelab-operator-mutating"
VALIDATING_WEBHOOK = "kubelab-operator-validating"
WEBHOOK_PORT = 9443
METRICS_PORT = 8080
PROBE_PORT = 8081
REGISTRY_CONFIGMAP = "kubelab-cronjob-registry"  # what the finalizer cleans up

MUTATE_PATH = "/mutate-batch-kubelab-dev-v1-cronjob"
VALIDATE_PATH = "/validate-batch-kubelab-dev-v1-cronjob"
CONVERT_PATH = "/convert"
