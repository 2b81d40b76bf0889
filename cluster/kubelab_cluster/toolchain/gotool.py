"""Running the Go tool with the pinned toolchain and our caches."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kubelab_cluster.cache import cache_root
from kubelab_cluster.toolchain.errors import ToolchainError

GO_MISSING_FIX = (
    "install Go 1.21 or newer and put `go` on PATH (Debian: the golang packages of bookworm-backports, "
    "or the official tarball); the pinned toolchain named in cluster/versions.toml is then fetched "
    "from the Go module proxy by GOTOOLCHAIN"
)


def go_env(go_version: str, cgo: bool = False) -> dict[str, str]:
    root = cache_root()
    env = dict(os.environ)
    env.update(
        GOMODCACHE=str(root / "go" / "mod"),
        GOCACHE=str(root / "go" / "build"),
        GOTOOLCHAIN=f"go{go_version}",
        GOFLAGS="-buildvcs=false -mod=mod",
        CGO_ENABLED="1" if cgo else "0",
        GOWORK="off",
    )
    return env


def go_binary(artifact: str) -> str:
    found = shutil.which("go")
    if not found:
        raise ToolchainError(artifact, "the `go` command is not on PATH", GO_MISSING_FIX, ["go", "version"])
    return found


@dataclass
class GoRunner:
    """Runs ``go`` for one artifact; failures become ToolchainErrors naming it."""

    artifact: str
    go_version: str
    log: Path | None = None
    cgo: bool = False
    # Overrides of go_env for every command of this runner (the release's second build: its own GOCACHE).
    env: dict[str, str] = field(default_factory=dict)

    def run(
        self, args: Sequence[str], cwd: Path | None = None, fix: str = "", extra_env: dict[str, str] | None = None
    ) -> str:
        cmd = [go_binary(self.artifact), *args]
        if cwd is not None:
            cwd.mkdir(parents=True, exist_ok=True)  # the cache root on a fresh machine
        env = go_env(self.go_version, self.cgo)
        env.update(self.env)
        env.update(extra_env or {})
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
        output = proc.stdout + proc.stderr
        if self.log:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            with self.log.open("a") as fh:
                fh.write(f"$ (cd {cwd or '.'} && {' '.join(cmd)})\n{output}\n")
        if proc.returncode != 0:
            raise ToolchainError(
                self.artifact,
                f"`go {args[0]}` exited with status {proc.returncode}",
                fix or diagnose(output, self.go_version),
                cmd,
                output,
                str(self.log) if self.log else None,
            )
        return proc.stdout

    def module_info(self, module: str, version: str) -> dict[str, str]:
        """``go mod download -json`` for one module: its Dir, GoMod file, Sum and Info (time)."""
        out = self.run(
            ["mod", "download", "-json", f"{module}@{version}"],
            cwd=cache_root(),
            fix=f"check that {module}@{version} is served by GOPROXY "
            f"({os.environ.get('GOPROXY', 'the default proxy')}) or change its pin in cluster/versions.toml",
        )
        info: dict[str, str] = json.loads(out)
        if info.get("Error"):
            raise ToolchainError(self.artifact, info["Error"], "change the pin in cluster/versions.toml")
        return info


def diagnose(output: str, go_version: str) -> str:
    """A likely fix for a failed go command, from what it printed."""
    text = output.lower()
    if "dial tcp" in text or "no such host" in text or "connection refused" in text or "i/o timeout" in text:
        return "the Go module proxy is unreachable: check network access and GOPROXY, then rerun `nox -s toolchain`"
    if "unknown revision" in text or ("not found" in text and "@v" in text) or "invalid version" in text:
        return "a pinned version is not served: correct it in cluster/versions.toml"
    if "requires go >=" in text or ("toolchain" in text and "download" in text):
        return (
            f"the pinned Go {go_version} is too old or cannot be fetched: raise `tools.go` in "
            "cluster/versions.toml or make that toolchain reachable"
        )
    if "seccomp" in text or "gcc" in text or "cgo" in text:
        return "install the C build dependencies: apt-get install -y gcc pkg-config libseccomp-dev"
    return "read the output above; rerun `nox -s toolchain -- --verbose NAME` after fixing it"
