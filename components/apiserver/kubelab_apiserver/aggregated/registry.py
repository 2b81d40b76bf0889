"""The REST store of one resource (k8s.io/apiserver ``registry/generic/registry.Store``): every verb
as the API server carries it out over the storage interface, without HTTP.

Create: server-owned metadata → mutating admission → schema → validating admission → storage.
Update and patch run the same steps inside a guaranteed update, so a patch is re-applied to the
newest object when another write won the race, while a client's own ``resourceVersion`` is a
precondition (409 if stale). Writes that change nothing are not stored (no new resourceVersion).
Delete honours preconditions and finalizers: an object with finalizers gets a
``deletionTimestamp`` and goes when the last finalizer is removed. Lists filter by label and field
selectors and page with continue tokens pinned to one revision; watches start from a
resourceVersion, from "now" after the current state (unset or "0"), or stream the initial state
and a bookmark first (``sendInitialEvents``).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import yaml

from kubelab_apiserver.aggregated import managed_fields, patches
from kubelab_apiserver.aggregated.admission import Attributes, Chain, Operation
from kubelab_apiserver.aggregated.meta import now, prepare_create, prepare_update
from kubelab_apiserver.aggregated.resources import Object, ResourceType
from kubelab_apiserver.aggregated.status import StatusError, bad_request, conflict, from_storage, gone, not_found
from kubelab_apiserver.aggregated.validation import FieldValidation, check_kind, validate
from kubelab_apiserver.auth.user import User
from kubelab_apiserver.storage import Expired, Storage, StorageError, guaranteed_update
from kubelab_apiserver.storage.interface import continue_token, parse_continue, parse_resource_version
from kubelab_client.selectors import Matcher, SelectorError, field_matcher, label_matcher

INITIAL_EVENTS_END = "k8s.io/initial-events-end"


@dataclass
class Options:
    """What a write request says about itself besides its body."""

    user: User
    dry_run: bool = False
    field_validation: FieldValidation = "Warn"
    field_manager: str = ""
    force: bool = False


@dataclass
class Selection:
    label_selector: str = ""
    field_selector: str = ""
    limit: int = 0
    continue_token: str = ""
    resource_version: str = ""
    resource_version_match: str = ""


def _strip_volatile(obj: Object) -> Object:
    out = copy.deepcopy(obj)
    meta = out.get("metadata") or {}
    meta.pop("resourceVersion", None)
    for entry in meta.get("managedFields") or []:
        entry.pop("time", None)
    return out


class Store:
    def __init__(self, resource: ResourceType, storage: Storage, admission: Chain) -> None:
        self.resource = resource
        self.storage = storage
        self.admission = admission

    # -- helpers ----------------------------------------------------------------------------------
    def _manager(self, options: Options, fallback: str = "unknown") -> str:
        return options.field_manager or fallback

    async def _admit(
        self,
        operation: Operation,
        namespace: str | None,
        name: str,
        obj: Object | None,
        old: Object | None,
        options: Options,
        subresource: str = "",
    ) -> None:
        attrs = Attributes(
            operation, self.resource, namespace, name, obj, old, options.user, subresource, options.dry_run
        )
        await self.admission.mutate(attrs)

    async def _validate_admit(
        self,
        operation: Operation,
        namespace: str | None,
        name: str,
        obj: Object | None,
        old: Object | None,
        options: Options,
        subresource: str = "",
    ) -> None:
        attrs = Attributes(
            operation, self.resource, namespace, name, obj, old, options.user, subresource, options.dry_run
        )
        await self.admission.validate(attrs)

    def matcher(self, selection: Selection) -> Matcher:
        try:
            labels = label_matcher(selection.label_selector)
            fields = field_matcher(selection.field_selector, self.resource.fields, kind=self.resource.kind)
        except SelectorError as exc:
            raise bad_request(str(exc)) from exc
        return lambda obj: bool(labels(obj) and fields(obj))

    # -- reads ------------------------------------------------------------------------------------
    async def get(self, namespace: str | None, name: str) -> Object:
        try:
            return await self.storage.get(self.resource.key(namespace, name))
        except StorageError as exc:
            raise from_storage(exc, self.resource, name) from exc

    async def list_objects(self, namespace: str | None, selection: Selection) -> tuple[list[Object], dict[str, Any]]:
        """The items and the list's metadata (resourceVersion, continue, remainingItemCount)."""
        prefix = self.resource.prefix(namespace)
        matches = self.matcher(selection)
        filtered = bool(selection.label_selector or selection.field_selector)
        token = selection.continue_token
        try:
            wanted = parse_resource_version(selection.resource_version)
        except ValueError as exc:
            raise bad_request(str(exc)) from exc
        if selection.resource_version_match not in ("", "NotOlderThan", "Exact"):
            raise bad_request(f"resourceVersionMatch: unsupported value {selection.resource_version_match!r}")
        if selection.resource_version_match and wanted is None:
            raise bad_request("resourceVersionMatch is forbidden unless resourceVersion is provided")
        if token and wanted not in (None, 0):
            raise bad_request("specifying resource version is not allowed when using continue")
        current = await self._revision()
        if wanted and wanted > current:
            raise StatusError(
                504, "Timeout", f"Too large resource version: {wanted}, current: {current}", {"retryAfterSeconds": 1}
            )
        if wanted and selection.resource_version_match == "Exact" and not token:
            token = continue_token(wanted, prefix)  # read exactly at that revision
        items: list[Object] = []
        remaining: int | None = None
        try:
            if token:
                parse_continue(token, prefix)
            while True:
                page = await self.storage.list(prefix, limit=selection.limit, continue_token=token)
                revision = page.revision
                for i, obj in enumerate(page.items):
                    if not matches(obj):
                        continue
                    items.append(obj)
                    if selection.limit and len(items) == selection.limit:
                        more = i + 1 < len(page.items) or bool(page.continue_token)
                        token = continue_token(revision, self._key_of(obj) + "\x00") if more else ""
                        remaining = (
                            (None if filtered else (page.remaining or 0) + len(page.items) - i - 1) if more else None
                        )
                        return items, self._list_meta(revision, token, remaining)
                token = page.continue_token
                if not token:
                    return items, self._list_meta(revision, "", None)
        except ValueError as exc:
            raise bad_request(str(exc)) from exc
        except Expired as exc:
            raise gone(str(exc)) from exc
        except StorageError as exc:
            raise from_storage(exc, self.resource, "") from exc

    def _key_of(self, obj: Object) -> str:
        meta = obj["metadata"]
        return self.resource.key(meta.get("namespace"), meta["name"])

    @staticmethod
    def _list_meta(revision: int, token: str, remaining: int | None) -> dict[str, Any]:
        meta: dict[str, Any] = {"resourceVersion": str(revision)}
        if token:
            meta["continue"] = token
            if remaining:
                meta["remainingItemCount"] = remaining
        return meta

    async def _revision(self) -> int:
        try:
            return await self.storage.revision()
        except StorageError as exc:
            raise from_storage(exc, self.resource, "") from exc

    # -- create -----------------------------------------------------------------------------------
    async def create(
        self, namespace: str | None, body: Any, options: Options, managed: list[Any] | None = None
    ) -> tuple[Object, list[str]]:
        """The stored object and the warnings; ``managed``: the managed fields to record (an apply's)."""
        obj, warnings = validate(
            self.resource,
            copy.deepcopy(check_kind(self.resource, body)),
            "Ignore" if options.field_validation == "Ignore" else options.field_validation,
        )
        obj = prepare_create(self.resource, obj, namespace)
        name = obj["metadata"]["name"]
        await self._admit("CREATE", namespace, name, obj, None, options)
        obj, _ = validate(self.resource, obj, "Ignore")
        await self._validate_admit("CREATE", namespace, name, obj, None, options)
        if managed is None:
            managed_fields.record_update(None, obj, self._manager(options), self.resource.group_version)
        else:
            obj["metadata"]["managedFields"] = managed
        key = self.resource.key(namespace, name)
        if options.dry_run:
            try:
                await self.storage.get(key)
                raise StatusError(409, "AlreadyExists", f'{self.resource.group_resource} "{name}" already exists')
            except StorageError:
                return obj, warnings
        try:
            return await self.storage.create(key, obj), warnings
        except StorageError as exc:
            raise from_storage(exc, self.resource, name) from exc

    # -- update and patch ---------------------------------------------------------------------------
    def _updater(
        self,
        namespace: str | None,
        name: str,
        change: Callable[[Object], Object],
        options: Options,
        subresource: str,
        warnings: list[str],
    ) -> Callable[[Object], Any]:
        async def mutate(current: Object) -> Object:
            wanted, found = validate(
                self.resource, check_kind(self.resource, change(copy.deepcopy(current))), options.field_validation
            )
            warnings[:] = found
            new = prepare_update(self.resource, wanted, current, subresource=subresource)
            await self._admit("UPDATE", namespace, name, new, current, options, subresource)
            new, _ = validate(self.resource, new, "Ignore")
            await self._validate_admit("UPDATE", namespace, name, new, current, options, subresource)
            return new

        return mutate

    async def _update(
        self,
        namespace: str | None,
        name: str,
        change: Callable[[Object], Object],
        options: Options,
        subresource: str = "",
        precondition: int | None = None,
        record: Callable[[Object, Object], None] | None = None,
    ) -> tuple[Object, list[str]]:
        key = self.resource.key(namespace, name)
        warnings: list[str] = []
        mutate = self._updater(namespace, name, change, options, subresource, warnings)
        manager = self._manager(options)

        async def step(current: Object) -> Object:
            new: Object = await mutate(current)
            if record is not None:
                record(current, new)
            else:
                managed_fields.record_update(current, new, manager, self.resource.group_version, subresource)
            if _strip_volatile(new) == _strip_volatile(current):
                raise _Unchanged(current)
            return new

        try:
            if options.dry_run:
                current = await self.storage.get(key)
                if precondition is not None and precondition != int(current["metadata"]["resourceVersion"]):
                    raise conflict(
                        self.resource,
                        name,
                        "the object has been modified; please apply your changes to the latest version and try again",
                    )
                try:
                    return await step(current), warnings
                except _Unchanged as same:
                    return same.object, warnings
            try:
                updated = await guaranteed_update(self.storage, key, step, precondition=precondition)
            except _Unchanged as same:
                updated = same.object
        except StorageError as exc:
            raise from_storage(exc, self.resource, name) from exc
        meta = updated.get("metadata") or {}
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            await self._finish_deletion(key, updated)
        return updated, warnings

    async def update(
        self, namespace: str | None, name: str, body: Any, options: Options, subresource: str = ""
    ) -> tuple[Object, list[str]]:
        obj = check_kind(self.resource, body)
        sent = str((obj.get("metadata") or {}).get("name") or "")
        if sent != name:
            raise bad_request(f"the name of the object ({sent}) does not match the name on the URL ({name})")
        try:
            precondition = parse_resource_version((obj.get("metadata") or {}).get("resourceVersion"))
        except ValueError as exc:
            raise bad_request(str(exc)) from exc

        def change(current: Object) -> Object:
            new = copy.deepcopy(obj)
            new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            new["metadata"]["managedFields"] = current["metadata"].get("managedFields", [])
            return new

        return await self._update(namespace, name, change, options, subresource, precondition)

    async def patch(
        self, namespace: str | None, name: str, patch_type: str, body: bytes, options: Options, subresource: str = ""
    ) -> tuple[Object, list[str], bool]:
        """(object, warnings, created): an apply patch of a missing object creates it."""
        if patch_type not in patches.TYPES:
            raise StatusError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - "
                f"accepted media types include: {', '.join(patches.TYPES)}",
            )
        try:
            document = yaml.safe_load(body) if patch_type == patches.APPLY else _json(body)
        except (yaml.YAMLError, ValueError) as exc:
            what = "YAML" if patch_type == patches.APPLY else "JSON"
            raise bad_request(f"the patch is not valid {what}: {exc}") from exc
        if patch_type == patches.APPLY:
            return await self._apply(namespace, name, document, options, subresource)
        precondition = None
        if isinstance(document, dict):
            try:
                precondition = parse_resource_version((document.get("metadata") or {}).get("resourceVersion"))
            except ValueError as exc:
                raise bad_request(str(exc)) from exc

        def change(current: Object) -> Object:
            if patch_type == patches.MERGE:
                result = patches.merge_patch(current, document)
            elif patch_type == patches.JSON:
                result = patches.json_patch(current, document)
            else:
                result = patches.strategic_merge_patch(current, document, self.resource.merge_keys)
            if not isinstance(result, dict):
                raise bad_request("the patched object is not a JSON object")
            result.setdefault("metadata", {})["resourceVersion"] = current["metadata"]["resourceVersion"]
            return result

        obj, warnings = await self._update(namespace, name, change, options, subresource, precondition)
        return obj, warnings, False

    async def _apply(
        self, namespace: str | None, name: str, applied: Any, options: Options, subresource: str
    ) -> tuple[Object, list[str], bool]:
        applied = check_kind(self.resource, applied)
        meta = applied.get("metadata") or {}
        if meta.get("name") != name:
            raise bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})"
            )
        if not options.field_manager:
            raise bad_request("PATCH, application/apply-patch+yaml: fieldManager is required")
        gv = self.resource.group_version
        try:
            await self.storage.get(self.resource.key(namespace, name))
        except StorageError as exc:
            if exc.reason != "NotFound":
                raise from_storage(exc, self.resource, name) from exc
            if subresource:
                raise not_found(self.resource, name) from exc
            made = managed_fields.apply(None, applied, options.field_manager, gv, force=options.force)
            fields = made["metadata"].pop("managedFields", [])
            created, warnings = await self.create(namespace, made, options, managed=fields)
            return created, warnings, True
        holder: dict[str, Object] = {}

        def change(current: Object) -> Object:
            result = managed_fields.apply(
                current, applied, options.field_manager, gv, force=options.force, subresource=subresource
            )
            holder["fields"] = {"managedFields": result["metadata"].get("managedFields", [])}
            result["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            return result

        def record(_old: Object, new: Object) -> None:
            new["metadata"]["managedFields"] = holder["fields"]["managedFields"]

        obj, warnings = await self._update(namespace, name, change, options, subresource, None, record)
        return obj, warnings, False

    # -- delete -----------------------------------------------------------------------------------
    async def delete(
        self, namespace: str | None, name: str, delete_options: dict[str, Any], options: Options
    ) -> Object:
        key = self.resource.key(namespace, name)
        preconditions = delete_options.get("preconditions") or {}
        policy = delete_options.get("propagationPolicy")
        if policy not in (None, "Orphan", "Background", "Foreground"):
            raise bad_request(f"propagationPolicy: Unsupported value: {policy!r}")
        for _ in range(16):
            current = await self.get(namespace, name)
            meta = current["metadata"]
            uid, version = preconditions.get("uid"), preconditions.get("resourceVersion")
            if uid and uid != meta.get("uid"):
                raise conflict(
                    self.resource,
                    name,
                    f"Precondition failed: UID in precondition: {uid}, UID in object meta: {meta.get('uid')}",
                )
            if version and str(version) != meta["resourceVersion"]:
                raise conflict(
                    self.resource,
                    name,
                    f"Precondition failed: ResourceVersion in precondition: "
                    f"{version}, ResourceVersion in object meta: {meta['resourceVersion']}",
                )
            await self._validate_admit("DELETE", namespace, name, None, current, options)
            finalizers = list(meta.get("finalizers") or [])
            extra = {"Foreground": "foregroundDeletion", "Orphan": "orphan"}.get(policy or "")
            if extra and extra not in finalizers and not meta.get("deletionTimestamp"):
                finalizers.append(extra)
            if options.dry_run:
                return current
            try:
                if finalizers:
                    if meta.get("deletionTimestamp") and finalizers == meta.get("finalizers"):
                        return current  # already being deleted: nothing changes
                    marked = copy.deepcopy(current)
                    marked["metadata"].setdefault("deletionTimestamp", now())
                    marked["metadata"]["deletionGracePeriodSeconds"] = 0
                    marked["metadata"]["finalizers"] = finalizers
                    return await self.storage.update(key, marked, expected=int(meta["resourceVersion"]))
                return await self.storage.delete(key, expected=int(meta["resourceVersion"]))
            except StorageError as exc:
                if exc.reason == "Conflict":
                    continue  # changed meanwhile: check the preconditions again on the new state
                raise from_storage(exc, self.resource, name) from exc
        raise conflict(self.resource, name, "the object kept changing while it was being deleted")

    async def _finish_deletion(self, key: str, obj: Object) -> None:
        try:
            await self.storage.delete(key, expected=int(obj["metadata"]["resourceVersion"]))
        except StorageError as exc:
            if exc.reason not in ("NotFound", "Conflict"):
                raise

    async def delete_collection(
        self, namespace: str | None, selection: Selection, delete_options: dict[str, Any], options: Options
    ) -> tuple[list[Object], dict[str, Any]]:
        items, meta = await self.list_objects(namespace, Selection(selection.label_selector, selection.field_selector))
        deleted = []
        for obj in items:
            m = obj["metadata"]
            try:
                deleted.append(await self.delete(m.get("namespace"), m["name"], delete_options, options))
            except StatusError as exc:
                if exc.code != 404:
                    raise
        return deleted, meta

    # -- watch ------------------------------------------------------------------------------------
    def watch(
        self,
        namespace: str | None,
        selection: Selection,
        *,
        send_initial: bool | None = None,
        bookmarks: bool = False,
        bookmark_every: float = 60.0,
        timeout: float | None = None,
    ) -> AsyncIterator[tuple[str, Object]]:
        """(type, object) events: ADDED, MODIFIED, DELETED, BOOKMARK, or one ERROR (a Status) and the
        end; the stream also ends after ``timeout`` seconds. Bad parameters raise here, before any event."""
        matches = self.matcher(selection)
        try:
            after = parse_resource_version(selection.resource_version)
        except ValueError as exc:
            raise bad_request(str(exc)) from exc
        if send_initial is not None:
            if selection.resource_version_match != "NotOlderThan" or not bookmarks:
                raise bad_request(
                    "sendInitialEvents requires resourceVersionMatch=NotOlderThan and allowWatchBookmarks=true"
                )
        elif selection.resource_version_match:
            raise bad_request("resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")
        initial = send_initial if send_initial is not None else not after
        return self._events(
            namespace,
            selection,
            matches,
            after,
            initial,
            bool(send_initial),
            bookmark_every if bookmarks else None,
            timeout,
        )

    async def _events(
        self,
        namespace: str | None,
        selection: Selection,
        matches: Matcher,
        after: int | None,
        initial: bool,
        announce_end: bool,
        bookmark_every: float | None,
        timeout: float | None,
    ) -> AsyncIterator[tuple[str, Object]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout if timeout else None
        seen: set[str] = set()
        stream: AsyncIterator[Any] | None = None
        pending: asyncio.Future[Any] | None = None
        try:
            if initial:
                everything = Selection(selection.label_selector, selection.field_selector)
                items, meta = await self.list_objects(namespace, everything)
                for obj in items:
                    seen.add(self._key_of(obj))
                    yield "ADDED", obj
                after = max(int(meta["resourceVersion"]), after or 0)
                if announce_end:
                    yield "BOOKMARK", self._bookmark(after, end_of_initial=True)
            stream = self.storage.watch(self.resource.prefix(namespace), after or 0)
            while True:
                left = deadline - loop.time() if deadline is not None else None
                if left is not None and left <= 0:
                    return
                wait = min(x for x in (left, bookmark_every) if x is not None) if (left or bookmark_every) else None
                if pending is None:
                    pending = asyncio.ensure_future(stream.__anext__())
                done, _ = await asyncio.wait({pending}, timeout=wait)
                if not done:
                    if bookmark_every is not None and (left is None or left > bookmark_every):
                        yield "BOOKMARK", self._bookmark(after or 0)  # idle for a while: say how far we are
                    continue
                try:
                    event = pending.result()
                except StopAsyncIteration:
                    return
                finally:
                    pending = None
                after = event.revision
                key, now_matches = event.key, matches(event.object)
                if event.type == "DELETED":
                    if now_matches or key in seen:
                        seen.discard(key)
                        yield "DELETED", event.object
                elif now_matches:
                    kind = "ADDED" if event.type == "ADDED" or (initial and key not in seen) else event.type
                    seen.add(key)
                    yield kind, event.object
                elif key in seen:
                    seen.discard(key)
                    yield "DELETED", event.object
        except Expired as exc:
            yield "ERROR", gone(str(exc)).status
        except StatusError as exc:
            yield "ERROR", exc.status
        except StorageError as exc:
            yield "ERROR", from_storage(exc, self.resource, "").status
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending
            if stream is not None:
                await stream.aclose()  # type: ignore[attr-defined]

    def _bookmark(self, revision: int, *, end_of_initial: bool = False) -> Object:
        meta: dict[str, Any] = {"resourceVersion": str(revision)}
        if end_of_initial:
            meta["annotations"] = {INITIAL_EVENTS_END: "true"}
        return {"kind": self.resource.kind, "apiVersion": self.resource.group_version, "metadata": meta}


class _Unchanged(Exception):
    def __init__(self, obj: Object) -> None:
        super().__init__("unchanged")
        self.object = obj


def _json(body: bytes) -> Any:
    return json.loads(body or b"null")
