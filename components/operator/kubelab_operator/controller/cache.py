"""What the watches have seen: the CronJobs by key, and each CronJob's Jobs (the index
controller-runtime keeps on ``.metadata.controller``), safe to read from the workers' threads."""

from __future__ import annotations

import copy
import threading
from typing import Any

from kubelab_operator.controller.jobs import controller_of

Obj = dict[str, Any]
Key = tuple[str, str]  # (namespace, name)


def key_of(obj: Obj) -> Key:
    meta = obj.get("metadata", {})
    return str(meta.get("namespace", "")), str(meta["name"])


class Cache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cronjobs: dict[Key, Obj] = {}
        self._jobs: dict[Key, dict[str, Obj]] = {}  # owner → job name → job
        self._owner_of: dict[Key, Key] = {}  # job key → owner key

    def put_cronjob(self, obj: Obj) -> Key:
        key = key_of(obj)
        with self._lock:
            self._cronjobs[key] = copy.deepcopy(obj)
        return key

    def drop_cronjob(self, obj: Obj) -> Key:
        key = key_of(obj)
        with self._lock:
            self._cronjobs.pop(key, None)
        return key

    def put_job(self, obj: Obj) -> Key | None:
        """Index a Job under its controlling CronJob; returns that CronJob's key (None: not ours)."""
        job_key = key_of(obj)
        owner = controller_of(obj)
        with self._lock:
            previous = self._owner_of.pop(job_key, None)
            if previous is not None:
                self._jobs.get(previous, {}).pop(job_key[1], None)
            if owner is not None:
                self._jobs.setdefault(owner, {})[job_key[1]] = copy.deepcopy(obj)
                self._owner_of[job_key] = owner
        return owner or previous

    def drop_job(self, obj: Obj) -> Key | None:
        job_key = key_of(obj)
        with self._lock:
            owner = self._owner_of.pop(job_key, None)
            if owner is not None:
                self._jobs.get(owner, {}).pop(job_key[1], None)
        return owner

    def cronjob(self, key: Key) -> Obj | None:
        with self._lock:
            obj = self._cronjobs.get(key)
            return copy.deepcopy(obj) if obj is not None else None

    def jobs_of(self, key: Key) -> list[Obj]:
        with self._lock:
            return [copy.deepcopy(j) for j in self._jobs.get(key, {}).values()]
