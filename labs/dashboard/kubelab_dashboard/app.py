"""The dashboard's FastAPI application.

- ``POST /api/reports`` (``Authorization: Bearer <class token>``): a lab run's report. An
  unknown token is 401, a body that is not a report of a known lab is 422 (pydantic's account
  of what is wrong), a body over 1 MiB 413; a refused report is not recorded anywhere.
- ``GET /classes/{name}?key=<instructor key>``: the page; ``/api/classes/{name}/board`` its
  data, ``/api/classes/{name}/events`` the live feed (server-sent events), ``/classes/{name}/export.csv``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from sse_starlette.sse import EventSourceResponse

from kubelab_dashboard.board import Board
from kubelab_dashboard.classes import Classes, Classroom
from kubelab_dashboard.events import Feed
from kubelab_dashboard.export import to_csv
from kubelab_dashboard.store import Store
from kubelab_labkit.reports.model import Report

MAX_BODY = 1 << 20
STATIC = files("kubelab_dashboard") / "static"


def create_app(classes: Classes, store: Store, labs: dict[str, int]) -> FastAPI:
    """``labs``: the known labs and their chapters (from labs/*/lab.toml)."""
    app = FastAPI(title="kube-dev-lab dashboard", docs_url=None, redoc_url=None)
    board, feed = Board(), Feed()
    for room in classes.rooms:
        for report, received in store.replay(room.name):
            board.add(room.name, report, received)
    app.state.board, app.state.feed = board, feed

    def room_for(request: Request) -> Classroom:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        room = classes.by_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        if room is None:
            raise HTTPException(401, "unknown class token: ask the instructor for the class token (--class-token)")
        return room

    def watched(name: str, key: str | None) -> Classroom:
        if not classes.instructor(key):
            raise HTTPException(403, "the instructor key is missing or wrong (?key=...)")
        room = classes.named(name)
        if room is None:
            raise HTTPException(404, f"no class {name!r}")
        return room

    @app.post("/api/reports", status_code=201)
    async def post_report(request: Request) -> dict[str, Any]:
        room = room_for(request)
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            raise HTTPException(413, f"a report is at most {MAX_BODY} bytes")
        body = await request.body()
        if len(body) > MAX_BODY:
            raise HTTPException(413, f"a report is at most {MAX_BODY} bytes")
        try:
            report = Report.model_validate_json(body)
        except ValidationError as exc:
            raise HTTPException(
                422, [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors(include_url=False)]
            ) from exc
        if labs.get(report.lab) != report.chapter:
            raise HTTPException(422, f"no lab {report.lab!r} of chapter {report.chapter} in this platform")
        received = datetime.now(UTC)
        store.append(room.name, report, received)
        row = board.add(room.name, report, received)
        message = {"row": row.to_json(), "columns": board.column_json(room.name, report.lab)}
        feed.publish(room.name, message)
        return {"class": room.name, "student": report.student, "lab": report.lab, "position": row.position}

    @app.get("/", include_in_schema=False)
    async def home(key: str | None = None) -> Response:
        if len(classes.rooms) == 1 and classes.instructor(key):
            return RedirectResponse(f"/classes/{classes.rooms[0].name}?key={key}")
        if not classes.instructor(key):
            return PlainTextResponse("kube-dev-lab dashboard: open /classes/NAME?key=INSTRUCTOR-KEY", 403)
        links = "".join(f'<li><a href="/classes/{r.name}?key={key}">{r.name}</a></li>' for r in classes.rooms)
        return HTMLResponse(f"<!doctype html><title>classes</title><ul>{links}</ul>")

    @app.get("/classes/{name}", include_in_schema=False)
    async def page(name: str, key: str | None = None) -> HTMLResponse:
        watched(name, key)
        return HTMLResponse((STATIC / "board.html").read_text())

    @app.get("/api/classes/{name}/board")
    async def board_json(name: str, key: str | None = None) -> JSONResponse:
        return JSONResponse(board.view(watched(name, key).name))

    @app.get("/api/classes/{name}/events")
    async def events(name: str, request: Request, key: str | None = None) -> EventSourceResponse:
        room = watched(name, key)

        async def stream() -> AsyncIterator[dict[str, str]]:
            yield {"event": "hello", "data": json.dumps({"class": room.name})}
            async for message in feed.follow(room.name):
                if await request.is_disconnected():
                    return
                yield {"event": "row", "data": json.dumps(message)}

        return EventSourceResponse(stream(), ping=15)

    @app.get("/classes/{name}/export.csv", include_in_schema=False)
    async def export(name: str, key: str | None = None) -> PlainTextResponse:
        room = watched(name, key)
        return PlainTextResponse(
            to_csv(board, room.name),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{room.name}.csv"'},
        )

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app
