"""The three PATCH bodies besides apply (RFC 7386 merge, RFC 6902 JSON, strategic merge).

Strategic merge is a merge patch that knows lists: a list with a merge key (the resource's
``merge_keys``, e.g. ``spec.chapters`` by ``number``) merges item by item, an item
``{"$patch": "delete", "number": 2}`` removes one, ``{"$patch": "replace"}`` in a map replaces it
whole, and ``$setElementOrder/<list>`` fixes the order; lists without a key are replaced, as in a
merge patch. JSON patches go through the ``jsonpatch`` library.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import jsonpatch
import jsonpointer

from kubelab_apiserver.aggregated.status import StatusError, bad_request

MERGE = "application/merge-patch+json"
JSON = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
APPLY_CBOR = "application/apply-patch+cbor"
TYPES = (MERGE, JSON, STRATEGIC, APPLY)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: maps merge recursively, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def json_patch(target: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise bad_request("a JSON patch must be a list of operations")
    try:
        return jsonpatch.apply_patch(target, operations)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise StatusError(422, "Invalid", f"the JSON patch could not be applied: {exc}") from exc
    except (TypeError, KeyError, ValueError) as exc:
        raise bad_request(f"the JSON patch is malformed: {exc}") from exc


def _merge_list(target: list[Any], patch: list[Any], key: str, order: list[Any] | None) -> list[Any]:
    out = [copy.deepcopy(item) for item in target]
    index = {item.get(key): i for i, item in enumerate(out) if isinstance(item, dict)}
    deleted: set[Any] = set()
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise bad_request(f"a strategic merge patch of a list merged by {key!r} needs {key!r} in every item")
        if item.get("$patch") == "delete":
            deleted.add(item[key])
            continue
        if item[key] in index:
            out[index[item[key]]] = merge_patch(out[index[item[key]]], item)
        else:
            index[item[key]] = len(out)
            out.append(copy.deepcopy(item))
    out = [item for item in out if not (isinstance(item, dict) and item.get(key) in deleted)]
    if order:
        rank = {value.get(key) if isinstance(value, dict) else value: i for i, value in enumerate(order)}
        out.sort(key=lambda item: rank.get(item.get(key), len(rank)))
    return out


def strategic_merge_patch(target: Any, patch: Any, merge_keys: Mapping[str, str], path: str = "") -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$patch", "$retainKeys"):
            continue
        where = f"{path}.{key}" if path else key
        if value is None:
            out.pop(key, None)
        elif isinstance(value, list) and where in merge_keys and isinstance(out.get(key), list):
            order = patch.get(f"$setElementOrder/{key}")
            out[key] = _merge_list(out[key], value, merge_keys[where], order)
        elif isinstance(value, list) and where in merge_keys:
            out[key] = [{k: v for k, v in i.items() if k != "$patch"} for i in value if i.get("$patch") != "delete"]
        else:
            merged = strategic_merge_patch(out.get(key), value, merge_keys, where)
            if merged is None:
                out.pop(key, None)
            else:
                out[key] = merged
    return out
