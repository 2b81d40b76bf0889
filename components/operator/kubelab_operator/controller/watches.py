"""What kopf does for the operator: the watches, and the finalizer.

* Every CronJob event and every Job event goes into the controller's cache and puts the
  CronJob's key on the work queue (a Job's key is its controlling CronJob's).
* On create or resume, the CronJob's record is written; on deletion kopf's delete handler
  removes it, and only then kopf removes the finalizer ``batch.kubelab.dev/finalizer``: while
  the operator is down a deleted CronJob waits, and its deletion completes when it returns.
* kopf's own bookkeeping goes into annotations (a structural schema would prune it from
  ``status``); kopf posts no events of its own (the controller logs what it does).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import kopf

from kubelab_client.kube import Api
from kubelab_operator.api.resource import CRONJOB, FINALIZER, GROUP, PLURAL
from kubelab_operator.controller import records
from kubelab_operator.controller.engine import Controller

log = logging.getLogger(__name__)


def registry_for(controller: Controller, api: Api, operator_namespace: str) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()
    version = CRONJOB.storage_version

    @kopf.on.startup(registry=registry)
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.persistence.finalizer = FINALIZER
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
            prefix=GROUP, key="last-handled-configuration"
        )
        settings.posting.enabled = False
        settings.watching.server_timeout = 300
        settings.watching.connect_timeout = 10
        settings.networking.request_timeout = 60

    kopf.on.login(registry=registry)(kopf.login_via_client)

    @kopf.on.event(GROUP, version, PLURAL, registry=registry)  # type: ignore[arg-type]
    async def cronjob_event(event: dict[str, Any], **_: Any) -> None:
        obj = event["object"]
        if event.get("type") == "DELETED":
            controller.cronjob_gone(obj)
        else:
            controller.cronjob_seen(obj)

    @kopf.on.event("batch", "v1", "jobs", registry=registry)  # type: ignore[arg-type]
    async def job_event(event: dict[str, Any], **_: Any) -> None:
        obj = event["object"]
        if event.get("type") == "DELETED":
            controller.job_gone(obj)
        else:
            controller.job_seen(obj)

    @kopf.on.resume(GROUP, version, PLURAL, registry=registry)
    @kopf.on.create(GROUP, version, PLURAL, registry=registry)
    async def keep_record(body: kopf.Body, **_: Any) -> None:
        await asyncio.to_thread(records.add, api, _plain(body), operator_namespace)

    @kopf.on.delete(GROUP, version, PLURAL, registry=registry)
    async def drop_record(body: kopf.Body, **_: Any) -> None:
        await asyncio.to_thread(records.remove, api, _plain(body), operator_namespace)
        log.info(
            "%s/%s: record removed; the finalizer goes next", body["metadata"]["namespace"], body["metadata"]["name"]
        )

    return registry


def _plain(body: kopf.Body) -> dict[str, Any]:
    return {"metadata": dict(body["metadata"]), "spec": dict(body.get("spec") or {})}
