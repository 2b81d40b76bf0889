"""``kubelab-client``: ``watch`` prints a collection's events through the informer;
``fake-apiserver`` serves a fake ConfigMap API (with optional churn) to try it without a cluster."""

from __future__ import annotations

import argparse
import random
import threading
import time
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.logging import RichHandler

from kubelab_client.config import add_connection_flags, api_from_flags
from kubelab_client.informer import HandlerFuncs, SharedInformer
from kubelab_client.keys import DeletedFinalStateUnknown, meta_namespace_key
from kubelab_client.kube import Api
from kubelab_client.listwatch import ListWatch
from kubelab_client.objects import resource_version
from kubelab_client.testing.fake_apiserver import FakeApiServer
from kubelab_kit.entry import entry_point
from kubelab_kit.logs import setup_logging
from kubelab_kit.signals import stop_on_signals

console = Console(highlight=False)
STYLE = {"ADD": "green", "UPDATE": "yellow", "RESYNC": "dim", "DELETE": "red"}


def cmd_watch(args: argparse.Namespace) -> int:
    api = api_from_flags(args)
    resource = api.discover(args.resource)
    informer = SharedInformer(
        ListWatch(
            api, resource, namespace=args.namespace, label_selector=args.selector, field_selector=args.field_selector
        ),
        resync_period=args.resync,
        name=f"watch-{resource.plural}",
    )
    stop = threading.Event()
    count = 0
    lock = threading.Lock()

    def show(verb: str, obj: Any, detail: str = "") -> None:
        nonlocal count
        with lock:
            count += 1
            stamp = datetime.now().strftime("%H:%M:%S.%f")[:-3]
            tomb = (
                " [dim](tombstone: deleted while not watching)[/dim]"
                if isinstance(obj, DeletedFinalStateUnknown)
                else ""
            )
            rv = resource_version(obj.obj or {}) if isinstance(obj, DeletedFinalStateUnknown) else resource_version(obj)
            console.print(
                f"{stamp} [{STYLE[verb]}]{verb:<6}[/] {meta_namespace_key(obj)} [dim]rv={rv}[/dim]{detail}{tomb}"
            )
            if args.max_events and count >= args.max_events:
                stop.set()

    def on_update(old: Any, new: Any) -> None:
        same = resource_version(old) == resource_version(new)
        show("RESYNC" if same else "UPDATE", new, "" if same else f" [dim](was {resource_version(old)})[/dim]")

    informer.add_event_handler(
        HandlerFuncs(add=lambda obj: show("ADD", obj), update=on_update, delete=lambda obj: show("DELETE", obj))
    )
    stop_on_signals(stop)
    console.print(f"[bold]watching {resource}[/bold] ({resource.kind}) at {api.host}", style="dim")
    thread = informer.start(stop)
    if informer.wait_for_cache_sync(args.sync_timeout):
        rv = informer.last_sync_resource_version
        console.print(f"[dim]-- cache synced: {len(informer.indexer)} objects at rv {rv} --[/dim]")
    else:
        console.print(f"[red]cache not synced after {args.sync_timeout} s; still trying[/red]")
    stop.wait(args.timeout)
    stop.set()
    thread.join(10.0)
    return 0


def cmd_fake_apiserver(args: argparse.Namespace) -> int:
    server = FakeApiServer(bookmark_interval=args.bookmark_interval).start()
    rng = random.Random(args.seed)
    for i in range(args.objects):
        server.apply("default", f"cm-{i}", {"n": str(i)}, {"kubelab.dev/summarize": "true"} if i % 2 == 0 else {})
    console.print(f"fake API server for configmaps at [bold]{server.url}[/bold] ({args.objects} objects)")
    console.print(f"  try: kubelab-client watch configmaps --server {server.url}")
    stop = threading.Event()
    stop_on_signals(stop)
    while not stop.wait(1.0 / args.churn if args.churn > 0 else None):
        name = f"cm-{rng.randrange(max(1, args.objects * 2))}"
        if rng.random() < 0.2 and f"default/{name}" in server.objects():
            server.delete("default", name)
        else:
            server.apply("default", name, {"n": str(rng.random()), "at": str(time.time())})
    server.stop()
    return 0


def cmd_pki(args: argparse.Namespace) -> int:
    from kubelab_client.certs.pki import read_node_pki

    for entry in read_node_pki(args.node):
        info = entry.info
        console.print(f"[bold]{entry.path}[/bold]  [dim]{entry.purpose}[/dim]")
        console.print(f"  subject: {info.subject}")
        console.print(f"  issuer:  {info.issuer}")
        extra = f"  CA: {info.is_ca}  valid until {info.not_after:%Y-%m-%d}"
        if info.usages:
            extra += f"  usages: {','.join(info.usages)}"
        console.print(extra)
        if info.sans:
            console.print(f"  SANs: {', '.join(info.sans)}")
    return 0


def cmd_issue_cert(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kubelab_client.certs.csr import issue_user_certificate
    from kubelab_client.certs.kubeconfig import read_cluster, user_kubeconfig, write_kubeconfig
    from kubelab_client.certs.pki import describe

    admin = Path(args.kubeconfig)
    api = Api.from_config(str(admin), args.context)
    issued = issue_user_certificate(api, args.user, args.group, expiration_seconds=args.expiration_seconds)
    info = describe(issued.cert_pem)
    console.print(f"CSR {issued.csr_name}: approved, signed, deleted")
    console.print(
        f"  subject: {info.subject}\n  issuer:  {info.issuer}\n  valid:   {info.not_before} .. {info.not_after}"
    )
    config = user_kubeconfig(
        read_cluster(admin, args.context), args.user, issued.cert_pem, issued.key_pem, args.namespace
    )
    console.print(f"wrote {write_kubeconfig(Path(args.output), config)}")
    return 0


def cmd_raw_get(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kubelab_client.certs.kubeconfig import read_cluster, read_user
    from kubelab_client.certs.rawtls import raw_get

    path = Path(args.kubeconfig)
    cluster, user = read_cluster(path, args.context), read_user(path, args.context)
    response = raw_get(cluster.server, args.path, cluster.ca_pem, user.cert_pem, user.key_pem, token=user.token)
    console.print(f"{response.status} over {response.tls_version} {response.cipher}; server: {response.server_subject}")
    body = response.body
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        for item in body["items"]:
            console.print(f"  {item.get('metadata', {}).get('name')}")
    else:
        console.print_json(data=body)
    return 0


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubelab-client", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log the reflector's retries")
    sub = parser.add_subparsers(dest="command", required=True)

    watch = sub.add_parser("watch", help="print a collection's events through a shared informer")
    watch.add_argument("resource", help="configmaps, pods, deployments.apps, apps/v1/deployments…")
    add_connection_flags(watch)
    watch.add_argument("-n", "--namespace", help="only this namespace (default: all)")
    watch.add_argument("-l", "--selector", help="label selector")
    watch.add_argument("--field-selector")
    watch.add_argument("--resync", type=float, default=0.0, help="resync period in seconds (0: none)")
    watch.add_argument("--max-events", type=int, default=0, help="stop after this many events")
    watch.add_argument("--timeout", type=float, default=None, help="stop after this many seconds")
    watch.add_argument("--sync-timeout", type=float, default=30.0)
    watch.set_defaults(func=cmd_watch)

    fake = sub.add_parser("fake-apiserver", help="serve a fake configmaps API on 127.0.0.1 (no cluster)")
    fake.add_argument("--objects", type=int, default=10)
    fake.add_argument("--churn", type=float, default=1.0, help="random changes per second (0: none)")
    fake.add_argument("--bookmark-interval", type=float, default=5.0)
    fake.add_argument("--seed", type=int, default=None)
    fake.set_defaults(func=cmd_fake_apiserver)

    pki = sub.add_parser("pki", help="show kubeadm's certificates on a kind node (docker exec NODE cat ...)")
    pki.add_argument("--node", default="kubelab-control-plane")
    pki.set_defaults(func=cmd_pki)

    issue = sub.add_parser("issue-cert", help="a user certificate through the CSR API, and a kubeconfig for it")
    issue.add_argument("user", help="the certificate's CN: the user name")
    issue.add_argument("-g", "--group", action="append", default=[], help="an O: a group (repeatable)")
    issue.add_argument("--kubeconfig", required=True, help="an admin kubeconfig (creates and approves the CSR)")
    issue.add_argument("--context")
    issue.add_argument("-n", "--namespace", help="default namespace of the new context")
    issue.add_argument("--expiration-seconds", type=int, default=3600, help="certificate lifetime (>= 600)")
    issue.add_argument("-o", "--output", required=True, help="where to write the new kubeconfig")
    issue.set_defaults(func=cmd_issue_cert)

    raw = sub.add_parser("raw-get", help="GET a path over raw TLS (ssl + http.client) with a kubeconfig's credentials")
    raw.add_argument("path", help="e.g. /api/v1/namespaces/default/configmaps")
    raw.add_argument("--kubeconfig", required=True)
    raw.add_argument("--context")
    raw.set_defaults(func=cmd_raw_get)

    args = parser.parse_args(argv)
    setup_logging(quiet=not args.verbose, handler=RichHandler(show_path=False, console=Console(stderr=True)))
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
