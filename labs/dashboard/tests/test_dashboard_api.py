"""The report API and what the board makes of the reports: accepted, refused with nothing kept,
stuck since the first run that stopped at the same checkpoint, exported as CSV, replayed."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kubelab_dashboard.classes import ClassesError, load, parse_class
from kubelab_dashboard.store import Store

from .conftest import KEY, OTHER, TOKEN, MakeReport

AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


@pytest.fixture
def client(make_app: Callable[[], FastAPI]) -> TestClient:
    return TestClient(make_app())


def board(client: TestClient, room: str = "k8s-101") -> dict[str, object]:
    response = client.get(f"/api/classes/{room}/board", params={"key": KEY})
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()
    return data


def rows(client: TestClient, room: str = "k8s-101") -> list[dict[str, object]]:
    labs = board(client, room)["labs"]
    assert isinstance(labs, list)
    return [row for lab in labs for row in lab["rows"]]


def test_a_report_is_kept_and_shown(client: TestClient, make_report: MakeReport, store: Store) -> None:
    response = client.post("/api/reports", content=make_report(fail_at=4).model_dump_json(), headers=AUTH)
    assert response.status_code == 201, response.text
    assert response.json() == {
        "class": "k8s-101",
        "student": "alice",
        "lab": "cni",
        "position": "labs/cni/tests/test_04.py::test_04_step",
    }
    (row,) = rows(client)
    assert row["position_name"] == "test_04_step" and row["runs"] == 1 and not row["passed"]
    assert row["hints"] == ["Hint (5.4): look at step 4"]
    assert rows(client, "k8s-102") == []  # the other class sees nothing of it
    assert len(store.path("k8s-101").read_text().splitlines()) == 1


@pytest.mark.parametrize(
    ("headers", "status", "detail"),
    [
        ({}, 401, "unknown class token"),
        ({"Authorization": "Bearer not-a-class-token"}, 401, "unknown class token"),
        ({"Authorization": f"Basic {TOKEN}"}, 401, "unknown class token"),
    ],
)
def test_an_unknown_token_is_refused_and_nothing_kept(
    client: TestClient, make_report: MakeReport, store: Store, headers: dict[str, str], status: int, detail: str
) -> None:
    response = client.post("/api/reports", content=make_report().model_dump_json(), headers=headers)
    assert response.status_code == status and detail in response.json()["detail"]
    assert not store.path("k8s-101").exists() and rows(client) == []


def test_malformed_reports_are_refused_and_nothing_kept(
    client: TestClient, make_report: MakeReport, store: Store
) -> None:
    good = json.loads(make_report().model_dump_json())
    cases = {
        "not JSON": b"{",
        "no checkpoints": json.dumps({**good, "checkpoints": []}).encode(),
        "an unknown outcome": json.dumps(
            {**good, "checkpoints": [{**good["checkpoints"][0], "outcome": "great"}]}
        ).encode(),
        "a student name with markup": json.dumps({**good, "student": "<b>x</b>"}).encode(),
        "a lab this platform has not": json.dumps({**good, "lab": "gpu"}).encode(),
        "a chapter that is not the lab's": json.dumps({**good, "chapter": 7}).encode(),
        "an extra field": json.dumps({**good, "grade": "A"}).encode(),
    }
    for what, body in cases.items():
        response = client.post("/api/reports", content=body, headers=AUTH)
        assert response.status_code == 422, (what, response.text)
        assert response.json()["detail"], what
    big = client.post("/api/reports", content=b" " * ((1 << 20) + 1), headers=AUTH)
    assert big.status_code == 413
    assert not store.path("k8s-101").exists() and rows(client) == []


def test_stuck_since_the_first_run_that_stopped_there(client: TestClient, make_report: MakeReport) -> None:
    def post(fail_at: int | None) -> dict[str, object]:
        assert (
            client.post(
                "/api/reports", content=make_report(fail_at=fail_at).model_dump_json(), headers=AUTH
            ).status_code
            == 201
        )
        (row,) = rows(client)
        return row

    first = post(3)
    again = post(3)
    assert again["since"] == first["since"] and again["runs"] == 2  # still at 3: since the first time
    moved = post(5)
    assert moved["since"] != first["since"] and moved["position_name"] == "test_05_step"
    done = post(None)
    assert done["passed"] and done["position"] == "" and done["runs"] == 4


def test_the_page_and_the_data_need_the_instructor_key(client: TestClient) -> None:
    for path in ("/classes/k8s-101", "/api/classes/k8s-101/board", "/classes/k8s-101/export.csv"):
        assert client.get(path).status_code == 403
        assert client.get(path, params={"key": "wrong"}).status_code == 403
    assert client.get("/classes/nope", params={"key": KEY}).status_code == 404
    page = client.get("/classes/k8s-101", params={"key": KEY})
    assert page.status_code == 200 and "/static/board.js" in page.text
    assert client.get("/static/board.js").status_code == 200


def test_csv_export(client: TestClient, make_report: MakeReport) -> None:
    client.post("/api/reports", content=make_report("alice", fail_at=2, count=3).model_dump_json(), headers=AUTH)
    client.post("/api/reports", content=make_report("bob", count=3).model_dump_json(), headers=AUTH)
    response = client.get("/classes/k8s-101/export.csv", params={"key": KEY})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(response.text)))
    assert len(lines) == 6
    alice = [line for line in lines if line["student"] == "alice"]
    assert [line["outcome"] for line in alice] == ["passed", "failed", "not reached"]
    assert {line["stuck at"] for line in alice} == {"test_02_step"} and all(line["stuck since"] for line in alice)
    assert {line["stuck at"] for line in lines if line["student"] == "bob"} == {""}


def test_a_restart_replays_what_was_kept(
    make_app: Callable[[], FastAPI], make_report: MakeReport, store: Store
) -> None:
    TestClient(make_app()).post("/api/reports", content=make_report(fail_at=2).model_dump_json(), headers=AUTH)
    with store.path("k8s-101").open("a") as fh:
        fh.write("not a report\n")  # a damaged line is left out, not fatal
    again = TestClient(make_app())
    (row,) = rows(again)
    assert row["student"] == "alice" and row["position_name"] == "test_02_step"


def test_each_class_posts_with_its_own_token(client: TestClient, make_report: MakeReport) -> None:
    headers = {**AUTH, "Authorization": f"Bearer {OTHER}"}
    assert (
        client.post("/api/reports", content=make_report("carol").model_dump_json(), headers=headers).status_code == 201
    )
    assert [r["student"] for r in rows(client, "k8s-102")] == ["carol"] and rows(client) == []


def test_classes_from_flags_and_files(tmp_path: Path) -> None:
    assert parse_class("k8s-101=a-long-class-token").token == "a-long-class-token"
    assert len(parse_class("k8s-101").token) >= 12
    with pytest.raises(ClassesError, match="shorter than 12"):
        parse_class("k8s-101=short")
    with pytest.raises(ClassesError, match="class name 'K8S'"):
        parse_class("K8S=a-long-class-token")
    path = tmp_path / "classes.toml"
    path.write_text('[classes]\nk8s-101 = "a-long-class-token"\nk8s-102 = "another-long-token"\n')
    assert [room.name for room in load(path)] == ["k8s-101", "k8s-102"]
    path.write_text("[teachers]\n")
    with pytest.raises(ClassesError, match="no \\[classes\\] table"):
        load(path)
