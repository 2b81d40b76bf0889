"""``kubelab-toolchain``: build, locate and list the toolchain artifacts, and check a release of them."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

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
    version_of,
)
from kubelab_cluster.toolchain.manifest import MANIFEST, verify
from kubelab_cluster.toolchain.release import (
    DEFAULT_RELEASE,
    Comparison,
    Rebuilt,
    compare,
    lookup_rebuild,
    platform,
    rebuild,
    release_mtime,
    require_identical,
    write_release,
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


def _first_build(a: Artifact) -> Built:
    """Build one: the toolchain's cached build (built now, as `build` would, when missing)."""
    p = pins()
    hit = lookup(a, p)
    if hit:
        return hit
    with step(f"build {a.name} {version_of(a, p)}") as s:
        built = build(a, p)
        s.note = ", ".join(built.binaries)
    return built


def _second_build(a: Artifact, again: bool) -> Rebuilt:
    p = pins()
    hit = None if again else lookup_rebuild(a, p)
    if hit:
        console.print(
            f"release: build 2 of {a.name} reused from {hit.built_at} ({hit.seconds:.1f} s then); "
            "--rebuild builds it again"
        )
        return hit
    with step(f"build 2 of {a.name} {version_of(a, p)}: fresh module folder, empty GOCACHE") as s:
        second = rebuild(a, p)
        s.note = ", ".join(second.binaries)
    return second


def _comparison_table(rows: list[tuple[Comparison, Rebuilt]]) -> Table:
    table = Table(title="build 1 (toolchain cache) against build 2 (independent rebuild)")
    for col in ("binary", "sha256 (build 1)", "sha256 (build 2)", "identical", "build 2"):
        table.add_column(col)
    for c, second in rows:
        how = f"reused ({second.built_at})" if second.reused else "built now"
        table.add_row(
            c.binary, c.first_sha256[:16] + "…", c.second_sha256[:16] + "…", "yes" if c.identical else "NO", how
        )
    return table


def cmd_release(args: argparse.Namespace) -> int:
    if args.verify:
        if args.names or args.out or args.rebuild:
            raise SystemExit("--verify DIR checks an existing release: no names, --out or --rebuild with it")
        folder = Path(args.verify).resolve()
        digests = verify(folder)
        for name in sorted(digests):
            console.print(f"{name}: OK")
        console.print(f"release: {len(digests)} files match {folder / MANIFEST}")
        return 0
    if not args.out:
        raise SystemExit("release needs --out DIR (or --verify DIR)")
    p = pins()
    selected = _select(args.names or list(DEFAULT_RELEASE))
    out = Path(args.out).resolve()
    console.print(f"release: {' '.join(a.name for a in selected)} into [bold]{out}[/bold]")
    started = time.monotonic()
    check_debian_deps([a for a in selected if not lookup(a, p)])
    firsts: list[Built] = []
    rows: list[tuple[Comparison, Rebuilt]] = []
    for a in selected:
        first = _first_build(a)
        second = _second_build(a, args.rebuild)
        firsts.append(first)
        rows += [(c, second) for c in compare(first, second)]
    console.print(_comparison_table(rows))
    require_identical([c for c, _ in rows])
    binaries = {name: path for b in firsts for name, path in b.binaries.items()}
    count = f"{len(binaries)} {'binary' if len(binaries) == 1 else 'binaries'}"
    with step(f"package {count}") as s:
        made = write_release(out, binaries, release_mtime(firsts), platform(p.tools.go))
        s.note = f"{made.archive.name}, {made.archive.stat().st_size / 2**20:.1f} MiB, mtime {made.mtime}"
    console.print(f"release: {count} reproducible, {MANIFEST} written")
    console.print(
        f"release: {time.monotonic() - started:.1f} s in all; check it with `cd {out} && sha256sum -c {MANIFEST}`"
    )
    print(out)
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
    re_ = sub.add_parser(
        "release",
        help=f"build twice, compare, package with {MANIFEST} (default: {' '.join(DEFAULT_RELEASE)}); or --verify DIR",
    )
    re_.add_argument("names", nargs="*", help="artifact names (see `list`)")
    re_.add_argument("--out", help="the release folder: bin/, the archive, SHA256SUMS")
    re_.add_argument("--rebuild", action="store_true", help="build 2 again even if an earlier release kept it")
    re_.add_argument("--verify", metavar="DIR", help=f"re-hash the files DIR/{MANIFEST} lists (build nothing)")
    re_.set_defaults(func=cmd_release)
    li = sub.add_parser("list", help="list artifacts, their pins and whether they are built")
    li.set_defaults(func=cmd_list)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
