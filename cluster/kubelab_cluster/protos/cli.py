"""``kubelab-protos``: generate the gRPC stubs from the pinned Go modules, and list what they serve."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path, PurePosixPath

from rich.table import Table
from rich.tree import Tree

from kubelab_cluster.pins import pin_file
from kubelab_cluster.progress import console, step
from kubelab_cluster.protos.descriptors import services
from kubelab_cluster.protos.errors import ProtosError
from kubelab_cluster.protos.generate import STUBS_GEN_DIR, Result, default_out_root, generate
from kubelab_cluster.protos.sources import GEN_PACKAGE
from kubelab_kit.entry import entry_point


def _parse_overrides(pairs: list[str]) -> dict[str, Path]:
    overrides = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise ProtosError(f"--override wants NAME=FILE.proto, got {pair!r}", fix="e.g. --override cri-v1=my.proto")
        overrides[name] = Path(path)
    return overrides


def _out(args: argparse.Namespace) -> Path:
    return Path(args.out) if args.out else default_out_root()


def _report(result: Result) -> None:
    table = Table(title=f"proto sources (pins from {pin_file()})")
    for col in ("source", "module@version", "proto package", f"stubs ({GEN_PACKAGE}.…)"):
        table.add_column(col)
    for item in result.inputs:
        module = f"{item.source.module}@{item.version}" + (" [yellow](override)[/yellow]" if item.overridden else "")
        stubs = item.source.module_name.removeprefix(f"{GEN_PACKAGE}.")
        table.add_row(item.source.name, module, item.source.proto_package, stubs)
    console.print(table)
    if result.cached:
        console.print(f"protos: up to date in {result.out_root} (key {result.key[:12]}), nothing written")
        return
    console.print(
        f"protos: {len(result.files)} files in {result.out_root} (key {result.key[:12]}): "
        f"{len(result.written)} written, {len(result.files) - len(result.written)} unchanged, "
        f"{len(result.removed)} removed"
    )
    changed = [("wrote", name) for name in result.written] + [("removed", name) for name in result.removed]
    if len(changed) <= 12:
        for verb, name in changed:
            console.print(f"  {verb} {name}", markup=False)
        return
    by_dir = Counter(str(PurePosixPath(name).parent) for _, name in changed)
    console.print("  changed: " + ", ".join(f"{d}/ ({n})" for d, n in sorted(by_dir.items())), markup=False)


def cmd_generate(args: argparse.Namespace) -> int:
    out = _out(args)
    overrides = _parse_overrides(args.override)
    with step(f"generate gRPC stubs into {out}") as s:
        result = generate(out, overrides, force=args.force)
        s.note = "cached" if result.cached else f"{len(result.written)} files written"
    _report(result)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    found = services(_out(args))
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    tree = Tree(f"gRPC services ({sum(map(len, found.values()))} methods)")
    for service, methods in found.items():
        branch = tree.add(f"[bold]{service}[/bold]")
        for method in methods:
            branch.add(method)
    console.print(tree)
    return 0


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubelab-protos", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    default = f"{STUBS_GEN_DIR} of the checkout"
    g = sub.add_parser("generate", help="generate the stubs (a no-op when nothing changed)")
    g.add_argument("--out", metavar="DIR", help=f"folder that becomes {GEN_PACKAGE} (default {default})")
    g.add_argument("--force", action="store_true", help="regenerate even if up to date")
    g.add_argument(
        "--override", action="append", default=[], metavar="NAME=FILE", help="compile FILE instead of source NAME"
    )
    g.set_defaults(func=cmd_generate)
    ls = sub.add_parser("list", help="the services and full method paths in the generated stubs")
    ls.add_argument("--out", metavar="DIR", help=f"read the stubs generated into DIR (default {default})")
    ls.add_argument("--json", action="store_true", help="print {service: [method path, ...]} as JSON")
    ls.set_defaults(func=cmd_list)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
