"""A real API server for tests, without a cluster: etcd and kube-apiserver as local processes,
as controller-runtime's envtest runs them (book 3.3.6).

No kubelet, no controller-manager, no scheduler: objects are stored, validated, defaulted,
admitted and watched exactly as on a cluster, but nothing acts on them (a Job makes no pod,
nothing garbage-collects). That is what a controller's integration test wants: the API
server's real answers to the controller's writes (schemas, the status subresource,
ownerReferences, conflicts, 409 AlreadyExists), and the controller's decisions alone.

The binaries are given (the toolchain builds them from the pinned Kubernetes and etcd);
everything else is made here in a private folder: a CA, a serving certificate for 127.0.0.1,
an admin client certificate (group ``system:masters``), a service-account key, free ports.
etcd runs without fsync (``--unsafe-no-fsync``): its data is thrown away with the folder.

    with ControlPlane(etcd=..., apiserver=..., workdir=tmp) as cp:
        api = cp.api()          # the Chapter 2 client, authenticated as the admin
        cp.kubeconfig           # for kubectl or another client
"""

from __future__ import annotations

import datetime as dt
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kubelab_client.certs import pki
from kubelab_client.certs.kubeconfig import ClusterInfo, user_kubeconfig, write_kubeconfig
from kubelab_client.kube import Api
from kubelab_client.testing.etcd import Etcd, ProcessError, free_port
from kubelab_client.testing.etcd import tail as _tail

ADMIN = "kubelab-envtest-admin"
SERVICE_RANGE = "10.0.0.0/24"


class ControlPlaneError(ProcessError):
    """etcd or kube-apiserver did not start; the message ends with the log's last lines."""


@dataclass
class ControlPlane:
    etcd: Path
    apiserver: Path
    workdir: Path
    extra_apiserver_flags: list[str] = field(default_factory=list)
    start_timeout: float = 90.0
    kubeconfig: Path = field(init=False)
    url: str = field(init=False)
    _procs: list[tuple[str, subprocess.Popen[bytes], Path]] = field(default_factory=list, init=False)
    _etcd: Etcd | None = field(default=None, init=False)

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> ControlPlane:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        pki_dir = self._pki()
        self._etcd = Etcd(self.etcd, self.workdir, start_timeout=self.start_timeout)
        try:
            self._etcd.start()
        except ProcessError as exc:
            raise ControlPlaneError(str(exc)) from exc
        etcd_url = self._etcd.url
        port = free_port()
        self.url = f"https://127.0.0.1:{port}"
        self._spawn(
            "kube-apiserver",
            [
                str(self.apiserver),
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={port}",
                f"--tls-cert-file={pki_dir / 'serving.crt'}",
                f"--tls-private-key-file={pki_dir / 'serving.key'}",
                f"--client-ca-file={pki_dir / 'ca.crt'}",
                f"--service-account-key-file={pki_dir / 'sa.pub'}",
                f"--service-account-signing-key-file={pki_dir / 'sa.key'}",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-cluster-ip-range={SERVICE_RANGE}",
                *(
                    []
                    if any(f.startswith("--authorization-config") for f in self.extra_apiserver_flags)
                    else ["--authorization-mode=RBAC"]
                ),  # the two may not be combined
                "--endpoint-reconciler-type=none",  # no kubernetes Service endpoints for a loopback address
                "--disable-admission-plugins=ServiceAccount",  # no token controller to make tokens
                "--v=1",
                *self.extra_apiserver_flags,
            ],
        )
        self._wait_ready()

    def stop(self) -> None:
        for _name, proc, _log in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self._procs.clear()
        if self._etcd is not None:
            self._etcd.stop()

    def api(self, timeout: float = 30.0) -> Api:
        client = Api.from_config(str(self.kubeconfig), in_cluster=False)
        client.timeout = timeout
        return client

    # -- parts -------------------------------------------------------------------------------

    def _pki(self) -> Path:
        out = self.workdir / "pki"
        out.mkdir(exist_ok=True)
        start = pki.utcnow() - dt.timedelta(minutes=1)
        end = start + dt.timedelta(days=1)
        ca_key = pki.new_key()
        ca = pki.sign(ca_key, pki.subject("kubelab-envtest-ca"), is_ca=True, not_before=start, not_after=end)
        serving_key = pki.new_key()
        serving = pki.sign(
            serving_key, pki.subject("kube-apiserver"), issuer=(ca, ca_key), client=False,
            server_ips=["127.0.0.1"], dns_names=["localhost"], not_before=start, not_after=end,
        )  # fmt: skip
        sa_key = pki.new_key()
        admin_key = pki.new_key()
        admin = pki.sign(
            admin_key, pki.subject(ADMIN, ["system:masters"]), issuer=(ca, ca_key), not_before=start, not_after=end
        )
        files = {
            "ca.crt": pki.cert_pem(ca),
            "serving.crt": pki.cert_pem(serving),
            "serving.key": pki.key_pem(serving_key),
            "sa.key": pki.key_pem(sa_key),
            "sa.pub": sa_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo),
            "admin.crt": pki.cert_pem(admin),
            "admin.key": pki.key_pem(admin_key),
        }
        for name, data in files.items():
            (out / name).write_bytes(data)
        self._ca_pem = files["ca.crt"]
        self._admin = (files["admin.crt"], files["admin.key"])
        return out

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._procs.append((name, proc, log))

    def _wait(self, url: str, context: ssl.SSLContext | None, what: str) -> None:
        """Until ``url`` answers 200; a process that exits meanwhile is an error with its log."""
        deadline = time.monotonic() + self.start_timeout
        last = ""
        while time.monotonic() < deadline:
            for name, proc, log in self._procs:
                if proc.poll() is not None:
                    raise ControlPlaneError(f"{name} exited with status {proc.returncode}:\n{_tail(log)}")
            try:
                with urllib.request.urlopen(url, context=context, timeout=5) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError) as exc:
                last = str(exc)
            time.sleep(0.1)
        logs = "\n".join(f"--- {name}:\n{_tail(log)}" for name, _p, log in self._procs)
        raise ControlPlaneError(f"{what} not ready after {self.start_timeout:g} s ({last}):\n{logs}")

    def _wait_ready(self) -> None:
        context = ssl.create_default_context(cadata=self._ca_pem.decode())
        cert, key = self.workdir / "pki" / "admin.crt", self.workdir / "pki" / "admin.key"
        context.load_cert_chain(cert, key)
        self._wait(f"{self.url}/readyz", context, "kube-apiserver")
        cluster = ClusterInfo(name="envtest", server=self.url, ca_pem=self._ca_pem)
        self.kubeconfig = write_kubeconfig(
            self.workdir / "kubeconfig", user_kubeconfig(cluster, ADMIN, self._admin[0], self._admin[1])
        )


def install_crd(api: Api, crd: dict[str, Any], timeout: float = 30.0) -> None:
    """Create ``crd`` and wait until the API server serves it (``Established``)."""
    name = crd["metadata"]["name"]
    path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    api.request("POST", path, body=crd)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = api.request("GET", f"{path}/{name}")
        conditions = (got.get("status") or {}).get("conditions") or []
        if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
            return
        time.sleep(0.1)
    raise ControlPlaneError(f"CRD {name} not Established after {timeout:g} s")
