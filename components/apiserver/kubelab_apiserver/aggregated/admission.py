"""The aggregated server's own admission chain (kube-apiserver's webhooks and policies never see
aggregated resources): mutating plugins run first, in order, then
the schema is checked, then validating plugins run, on create,
update and delete, before anything is stored (dry runs included).

* :class:`AuthorDefault` (mutating): a Book without an author gets the requesting user's name,
  which shows that the user kube-apiserver authenticated reaches this server.
* :class:`BannedTitles` (validating): no Book may have a title a Library bans (sample-apiserver's
  BanFlunder, with Books and Libraries).
* :class:`NamespaceLifecycle` (validating): nothing is created in a namespace that does not exist
  or is being deleted, so the namespace controller can finish (it needs an API client).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from kubelab_apiserver.aggregated.books import BOOKS, LIBRARIES
from kubelab_apiserver.aggregated.resources import Object, ResourceType
from kubelab_apiserver.aggregated.status import StatusError, forbidden
from kubelab_apiserver.auth.user import User

Operation = Literal["CREATE", "UPDATE", "DELETE"]


@dataclass
class Attributes:
    operation: Operation
    resource: ResourceType
    namespace: str | None
    name: str
    object: Object | None
    old_object: Object | None
    user: User
    subresource: str = ""
    dry_run: bool = False


class Plugin(Protocol):
    name: str

    async def admit(self, attrs: Attributes) -> None: ...


class Chain:
    def __init__(self, mutating: Sequence[Plugin] = (), validating: Sequence[Plugin] = ()) -> None:
        self.mutating, self.validating = list(mutating), list(validating)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.mutating + self.validating]

    async def mutate(self, attrs: Attributes) -> None:
        for plugin in self.mutating:
            await plugin.admit(attrs)

    async def validate(self, attrs: Attributes) -> None:
        for plugin in self.validating:
            await plugin.admit(attrs)


class AuthorDefault:
    name = "AuthorDefault"

    async def admit(self, attrs: Attributes) -> None:
        if attrs.resource is not BOOKS or attrs.operation != "CREATE" or attrs.object is None:
            return
        spec = attrs.object.setdefault("spec", {})
        if isinstance(spec, dict) and not spec.get("author"):
            spec["author"] = attrs.user.name


ListLibraries = Callable[[], Awaitable[list[Object]]]


class BannedTitles:
    name = "BannedTitles"

    def __init__(self, libraries: ListLibraries) -> None:
        self.libraries = libraries

    async def admit(self, attrs: Attributes) -> None:
        if attrs.resource is not BOOKS or attrs.operation == "DELETE" or attrs.subresource or attrs.object is None:
            return
        title = str((attrs.object.get("spec") or {}).get("title") or "")
        for library in await self.libraries():
            if title in ((library.get("spec") or {}).get("bannedTitles") or []):
                who = library["metadata"]["name"]
                raise forbidden(BOOKS, attrs.name, f'the title "{title}" is banned by {LIBRARIES.singular} "{who}"')


GetNamespace = Callable[[str], Awaitable[dict[str, Any] | None]]


class NamespaceLifecycle:
    name = "NamespaceLifecycle"

    def __init__(self, get_namespace: GetNamespace) -> None:
        self.get_namespace = get_namespace

    async def admit(self, attrs: Attributes) -> None:
        if attrs.operation != "CREATE" or not attrs.resource.namespaced or not attrs.namespace:
            return
        found = await self.get_namespace(attrs.namespace)
        if found is None:
            raise StatusError(
                404,
                "NotFound",
                f'namespaces "{attrs.namespace}" not found',
                {"name": attrs.namespace, "kind": "namespaces"},
            )
        if (found.get("status") or {}).get("phase") == "Terminating" or (found.get("metadata") or {}).get(
            "deletionTimestamp"
        ):
            raise forbidden(
                attrs.resource,
                attrs.name,
                f"unable to create new content in namespace {attrs.namespace} because it is being terminated",
            )
