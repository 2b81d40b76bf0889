"""Chapter 2.3: certificates and kubeconfig.

* :mod:`~kubelab_client.certs.pki`: keys, CSRs and certificates with ``cryptography``;
  validity checks with an injectable clock; a reader for kubeadm's PKI on a node.
* :mod:`~kubelab_client.certs.csr`: a user certificate through the
  ``CertificateSigningRequest`` API (create, approve as the admin, wait, clean up).
* :mod:`~kubelab_client.certs.kubeconfig`: read the cluster's server and CA from a
  kubeconfig; write one for a user with everything embedded.
* :mod:`~kubelab_client.certs.rawtls`: the same request over ``ssl`` + ``http.client``,
  with the errors spelled out (401, 403, expired certificate, handshake failures).
"""

from kubelab_client.certs.csr import CLIENT_SIGNER, IssuedCertificate, issue_user_certificate
from kubelab_client.certs.kubeconfig import ClusterInfo, UserCredentials, read_cluster, read_user, user_kubeconfig
from kubelab_client.certs.pki import (
    CertificateExpired,
    CertificateNotYetValid,
    CertInfo,
    check_validity,
    describe,
    new_csr,
    new_key,
    self_signed,
)
from kubelab_client.certs.rawtls import RawResponse, RawTLSError, raw_get

__all__ = [
    "CLIENT_SIGNER",
    "CertInfo",
    "CertificateExpired",
    "CertificateNotYetValid",
    "ClusterInfo",
    "IssuedCertificate",
    "RawResponse",
    "RawTLSError",
    "UserCredentials",
    "check_validity",
    "describe",
    "issue_user_certificate",
    "new_csr",
    "new_key",
    "raw_get",
    "read_cluster",
    "read_user",
    "self_signed",
    "user_kubeconfig",
]
