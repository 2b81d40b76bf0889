"""The six CNI commands. ``run(env, stdin)`` is the whole plugin: it returns exactly what a
plugin process would exit with and print, whether it runs in the daemon or in-process."""

from __future__ import annotations

import traceback
from collections.abc import Mapping

from kubelab_cni.protocol import CniError, Code, Invocation, Outcome, sniff_version


def run(env: Mapping[str, str], stdin: bytes) -> Outcome:
    version = sniff_version(stdin)
    try:
        inv = Invocation.from_env(env)
        if inv.command == "VERSION":
            from kubelab_cni.commands.version import version_command

            return version_command(stdin)
        if inv.command == "ADD":
            from kubelab_cni.commands.add import add

            return add(inv, stdin, env)
        if inv.command == "DEL":
            from kubelab_cni.commands.delete import delete

            return delete(inv, stdin)
        if inv.command == "CHECK":
            from kubelab_cni.commands.check import check

            return check(inv, stdin)
        if inv.command == "STATUS":
            from kubelab_cni.commands.status import status

            return status(stdin)
        from kubelab_cni.commands.gc import gc

        return gc(stdin)
    except CniError as exc:
        return Outcome.failure(exc, version)
    except Exception as exc:  # a bug or an unexpected kernel answer: still the spec's error form
        error = CniError(Code.INTERNAL, f"internal error: {type(exc).__name__}: {exc}", traceback.format_exc(limit=4))
        return Outcome.failure(error, version)
