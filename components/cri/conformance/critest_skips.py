"""What ``nox -s critest`` does not run, and why: one table of ``-ginkgo.skip`` patterns.

Each pattern is a Go regular expression matched (by Ginkgo) against a spec's full text: its
Describe/Context texts and its It text, joined by spaces, e.g. ``[k8s.io] Streaming runtime
should support streaming interfaces runtime should support attach [Conformance]``. A skip
with a ``when`` applies only when that check of this host says so; the rest always apply.
"""

from __future__ import annotations

from pathlib import Path

from kubelab_labkit.ginkgo import Skip


def _apparmor_disabled() -> bool:
    """critest's own check (pkg/validate/apparmor_linux.go)."""
    try:
        return not Path("/sys/module/apparmor/parameters/enabled").read_text().startswith("Y")
    except OSError:
        return True


def _selinux_disabled() -> bool:
    return not Path("/sys/fs/selinux/enforce").exists()


def _seccomp_missing() -> bool:
    """No seccomp filter mode in this kernel (runc from the toolchain links libseccomp)."""
    try:
        return "Seccomp:" not in Path("/proc/self/status").read_text()
    except OSError:
        return True


SKIPS: list[Skip] = [
    Skip(
        r"\[k8s\.io\] NRI",
        "kubelab-cri has no NRI (Node Resource Interface) adaptation; critest runs these only with -nri-socket",
    ),
    Skip(
        r"\[k8s\.io\] Security Context UserNamespaces",
        "user namespaces are not implemented (no runtime handler reports the user_namespaces feature)",
    ),
    Skip(
        r"public image with digest should be pulled and removed",
        "pulls gcr.io/k8s-staging-cri-tools/test-image-digest by upstream's pinned manifest digest: a rebuilt "
        "image cannot have it (offline)",
    ),
    Skip(
        r"runtime should support MaskedPaths",
        "image, not runtime: Debian's busybox-static runs applets inside sh (FEATURE_SH_STANDALONE), so the "
        "test's `sh -c ls` never executes the masked /bin/ls (upstream's busybox does)",
    ),
    Skip(r"\[k8s\.io\] AppArmor", "AppArmor is not enabled in this host's kernel", _apparmor_disabled),
    Skip(r"\[k8s\.io\] SELinux", "SELinux is not enabled on this host", _selinux_disabled),
    Skip(r"SeccompProfilePath", "this host's kernel has no seccomp filters", _seccomp_missing),
    Skip(r"benchmark", "benchmarks, not validation (critest itself skips them unless -benchmark)"),
]


def active_skips() -> list[Skip]:
    """The skips that apply on this host, in table order."""
    return [s for s in SKIPS if s.applies()]
