"""What kube-apiserver must know about the Chapter 7 webhooks before it starts: the CA that will
sign their serving certificates, and the token webhook's kubeconfig (kube-apiserver reads it once).

Made with the cluster (``openssl``, in the cluster files), kept while the cluster lives, and
checked by the health check: a cluster whose files went missing is recreated. The webhook answers
at a fixed ClusterIP (:data:`WEBHOOK_IP`, inside kind.yaml's serviceSubnet), which the lab's
Service claims; until then kube-apiserver cannot reach it, which only matters for bearer tokens no
other authenticator knows (they stay 401).
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

from kubelab_cluster.kind.errors import ClusterError

WEBHOOK_IP = "10.96.77.77"
CA_CERT = "apiserver-webhook-ca.crt"
CA_KEY = "apiserver-webhook-ca.key"
TOKEN_WEBHOOK_KUBECONFIG = "apiserver-token-webhook.kubeconfig"
FILES = (CA_CERT, CA_KEY, TOKEN_WEBHOOK_KUBECONFIG)


def missing(root: Path) -> list[str]:
    return [name for name in FILES if not (root / name).is_file()]


def make(root: Path) -> None:
    """A new CA (ten years, EC P-256) and the kubeconfig that trusts it; replaces what was there."""
    root.mkdir(parents=True, exist_ok=True)
    cmd = [
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-days", "3650", "-subj", "/CN=kube-dev-lab Chapter 7 webhooks CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout", str(root / CA_KEY), "-out", str(root / CA_CERT),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ClusterError("making the webhook CA failed", command=cmd, output=proc.stderr,
                           fix="install openssl (`nox -s host`)")  # fmt: skip
    (root / CA_KEY).chmod(0o600)
    ca = base64.b64encode((root / CA_CERT).read_bytes()).decode()
    (root / TOKEN_WEBHOOK_KUBECONFIG).write_text(f"""\
# kube-apiserver's token webhook (Chapter 7.1): the lab serves it at this ClusterIP.
apiVersion: v1
kind: Config
clusters:
  - name: kubelab-token-webhook
    cluster:
      server: https://{WEBHOOK_IP}/authenticate
      certificate-authority-data: {ca}
users:
  - name: kube-apiserver
    user: {{}}
contexts:
  - name: kubelab-token-webhook
    context: {{cluster: kubelab-token-webhook, user: kube-apiserver}}
current-context: kubelab-token-webhook
""")
