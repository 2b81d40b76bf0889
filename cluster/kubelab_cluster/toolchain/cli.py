"""``kubelab-toolchain``: build, locate and list the toolchain artifacts."""

from __future__ import annotations

import argparse
import sys
import time

from rich.table import Table

from kubelab_cluster.cache import cache_root
from kubelab_cluster.pins import pin_file, pins
from kubelab_cluster.progress import console, step
from kubelab_cluster.toolchain.artifacts import ARTIFACTS, BY_NAME, Artifact
from kubelab_cluster.toolchain.build import (
    Built,
    Override,
    build,
    check_debian_deps,
    link_bin_dir,
    lookup,
    stale_entries,
)
from kubelab_kit.entry import entry_point


def _select(names: list[str]) -> list[Artifact]:
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise SystemExit(f"unknown artifact(s): {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
    return [BY_NAME[n] for n in names] if names else list(ARTIFACTS)


def cmd_build(args: argparse.Namespace) -> int:
    p = pins()
    override = Override(git_version=args.git_version, tree_state=args.git_tree_state)
    if override.as_dict() and not args.names:
        raise SystemExit("--git-version/--git-tree-state need artifact names (e.g. kubelet)")
    console.print(f"toolchain: pins from {pin_file()}, cache in [bold]{cache_root()}[/bold]")
    started = time.monotonic()
    results: list[Built] = []
    selected = _select(args.names)
    todo = [a for a in selected if args.force or not lookup(a, p, override)]
    check_debian_deps(todo)  # before the first build, not after fifteen minutes of them
    for a in selected:
        version = override.git_version or p.get(a.pin)
        hit = None if args.force else lookup(a, p, override)
        if hit:
            results.append(hit)
            continue
        with step(f"build {a.name} {version}") as s:
            built = build(a, p, override, force=args.force)
            s.note = ", ".join(built.binaries)
        results.append(built)
    table = Table(title="toolchain", show_lines=False)
    for col in ("artifact", "version", "status", "seconds (this run)", "seconds (build)"):
        table.add_column(col)
    for r in results:
        status = "cached" if r.cached else "built"
        table.add_row(r.artifact, r.version, status, f"{r.seconds:.1f}", f"{r.build_seconds:.1f}")
    bindir = link_bin_dir(p, results) if not (override.as_dict() or args.names) else None
    console.print(table)
    total = time.monotonic() - started
    console.print(
        f"toolchain: {sum(not r.cached for r in results)} built, "
        f"{sum(r.cached for r in results)} cached, {total:.1f} s in all"
    )
    if bindir:
        console.print(f"toolchain: binaries linked in {bindir}")
    for r in results:
        if args.names:
            print(r.directory)
    return 0


def cmd_path(args: argparse.Namespace) -> int:
    p = pins()
    override = Override(git_version=args.git_version)
    a = _select([args.artifact])[0]
    hit = lookup(a, p, override)
    if not hit:
        console.print(f"[red]{a.name} is not built for the current pins; run `nox -s toolchain`[/red]")
        return 1
    binary = args.binary or next(iter(a.binaries))
    print(hit.binaries[binary])
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    """Print the artifacts a build would (re)build now, one per line, and nothing else."""
    p = pins()
    for a in _select(args.names):
        if not lookup(a, p):
            print(a.name)
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    """Delete cache entries of other pins (older versions, changed recipes, custom builds)."""
    import shutil

    stale = stale_entries(pins())
    freed = 0
    for path in stale:
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
        freed += size
        console.print(f"{'would remove' if args.dry_run else 'remove'} {path} ({size / 2**20:.0f} MiB)")
        if not args.dry_run:
            shutil.rmtree(path)
    console.print(
        f"toolchain: {len(stale)} stale entries, {freed / 2**20:.0f} MiB{' (dry run)' if args.dry_run else ' freed'}"
    )
    return 0


def cmd_list(_: argparse.Namespace) -> int:
    p = pins()
    table = Table(title=f"toolchain artifacts (cache {cache_root()})")
    for col in ("artifact", "version", "binaries", "state"):
        table.add_column(col)
    for a in ARTIFACTS:
        hit = lookup(a, p)
        state = f"built ({hit.build_seconds:.0f} s)" if hit else "missing"
        table.add_row(a.name, p.get(a.pin), " ".join(a.binaries), state)
    console.print(table)
    return 0


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubelab-toolchain", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build artifacts (all by default); cached ones are skipped")
    b.add_argument("names", nargs="*", help="artifact names (see `list`)")
    b.add_argument("--force", action="store_true", help="rebuild even if cached")
    b.add_argument("--git-version", help="stamp this gitVersion instead of the pin (like KUBE_GIT_VERSION)")
    b.add_argument("--git-tree-state", choices=("clean", "dirty"), help="stamp this gitTreeState")
    b.set_defaults(func=cmd_build)
    pa = sub.add_parser("path", help="print the path of a built binary")
    pa.add_argument("artifact")
    pa.add_argument("binary", nargs="?")
    pa.add_argument("--git-version")
    pa.set_defaults(func=cmd_path)
    pl = sub.add_parser("plan", help="print the artifacts that are not built for the current pins")
    pl.add_argument("names", nargs="*")
    pl.set_defaults(func=cmd_plan)
    pr = sub.add_parser("prune", help="delete cached builds the current pins do not use")
    pr.add_argument("--dry-run", action="store_true")
    pr.set_defaults(func=cmd_prune)
    li = sub.add_parser("list", help="list artifacts, their pins and whether they are built")
    li.set_defaults(func=cmd_list)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
