"""The extender's endpoints in process: the protocol's shapes, both node forms, bad bodies refused."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kubelab_scheduler.extender import policy
from kubelab_scheduler.extender.app import create_app

from .builders import node, pod

CLIENT = TestClient(create_app(None))


def nodes(*items: dict[str, object]) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "NodeList", "items": list(items)}


def test_filter_with_a_node_list_keeps_the_list_form() -> None:
    args = {"Pod": pod("p"), "Nodes": nodes(node("a", labels={policy.FILTER_LABEL: "reject"}), node("b"))}
    got = CLIENT.post("/filter", json=args).json()
    assert [n["metadata"]["name"] for n in got["Nodes"]["items"]] == ["b"]
    assert got["FailedNodes"] == {"a": "rejected by kubelab-extender: node labelled kubelab.dev/extender-filter=reject"}
    assert got["Error"] == ""


def test_node_names_without_an_api_keep_every_node() -> None:
    got = CLIENT.post("/filter", json={"Pod": pod("p"), "NodeNames": ["a", "b"]}).json()
    assert got["NodeNames"] == ["a", "b"] and got["FailedNodes"] == {}


def test_prioritize_reads_and_clamps_the_label() -> None:
    listed = nodes(
        node("hi", labels={policy.SCORE_LABEL: "99"}), node("bad", labels={policy.SCORE_LABEL: "x"}), node("none")
    )
    got = CLIENT.post("/prioritize", json={"Pod": pod("p"), "Nodes": listed}).json()
    assert got == [{"Host": "hi", "Score": 10}, {"Host": "bad", "Score": 0}, {"Host": "none", "Score": 0}]


def test_bind_without_an_api_answers_in_the_protocols_error_field() -> None:
    got = CLIENT.post("/bind", json={"PodName": "p", "PodNamespace": "d", "PodUID": "u", "Node": "n"}).json()
    assert got == {"Error": "this extender has no API client: it cannot bind"}


def test_a_body_that_is_not_the_protocol_is_refused() -> None:
    answer = CLIENT.post("/filter", json={"Nodes": {"items": []}})  # no Pod
    assert answer.status_code == 422 and "Pod" in answer.text
    assert CLIENT.post("/prioritize", content=b"not json").status_code == 422


def test_healthz_answers_for_the_kubelets_probes() -> None:
    assert CLIENT.get("/healthz").json() == {"status": "ok"}
