"""One aggregated server from its parts: a REST store per resource over one storage backend, the
admission chain, and the authenticator and authorizer it delegates to."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from kubelab_apiserver.aggregated.admission import AuthorDefault, BannedTitles, Chain, NamespaceLifecycle, Plugin
from kubelab_apiserver.aggregated.app import Server
from kubelab_apiserver.aggregated.books import LIBRARIES, RESOURCES
from kubelab_apiserver.aggregated.registry import Selection, Store
from kubelab_apiserver.auth.authenticator import Authenticator
from kubelab_apiserver.auth.authorizer import Authorizer
from kubelab_apiserver.storage import Storage


def build(
    storage: Storage,
    authenticator: Authenticator,
    authorizer: Authorizer,
    *,
    get_namespace: Callable[[str], Awaitable[dict[str, Any] | None]] | None = None,
    ready: Callable[[], str] = lambda: "",
) -> Server:
    stores: dict[tuple[str, str], Store] = {}
    chain = Chain()
    for resource in RESOURCES:
        stores[(resource.group_version, resource.plural)] = Store(resource, storage, chain)
    libraries = stores[(LIBRARIES.group_version, LIBRARIES.plural)]

    async def all_libraries() -> list[dict[str, Any]]:
        items, _meta = await libraries.list_objects(None, Selection())
        return items

    chain.mutating.append(AuthorDefault())
    validating: list[Plugin] = [BannedTitles(all_libraries)]
    if get_namespace is not None:
        validating.insert(0, NamespaceLifecycle(get_namespace))
    chain.validating.extend(validating)
    return Server(RESOURCES, stores, authenticator, authorizer, ready)
