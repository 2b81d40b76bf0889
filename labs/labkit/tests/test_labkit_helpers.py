"""Helpers that need no cluster: hints, manifests, the lab table, object builders, eventually."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubelab_cluster.pins import repo_root
from kubelab_labkit import hints, kube, manifests, objects, tables
from kubelab_labkit.registry import Status, load_labs
from kubelab_labkit.waiting import eventually


def test_hint_paragraphs() -> None:
    def check() -> None:
        """Does a thing.

        Hint: first line
        continues here.

        Not a hint.
        Hint: another.

        Hint (3.3.3, 3.3.4): naming the book's sections.
        Hints about nothing: not one.
        """

    assert hints.from_doc(check.__doc__) == [
        "Hint: first line continues here.",
        "Hint: another.",
        "Hint (3.3.3, 3.3.4): naming the book's sections. Hints about nothing: not one.",
    ]
    assert hints.from_doc(None) == []


def test_every_checkpoint_has_a_hint() -> None:
    """A failing checkpoint always says where to look, naming the book's section (issue 15): every test
    function of every runnable lab has a ``Hint (SECTION):`` paragraph, and each section it names is one
    of its lab.toml ``sections`` or a subsection of one ("2.4.1" under "2.4"). Labs without sections
    (smoke, kubelet) may put any label in the parentheses."""
    import ast
    import re

    labelled = re.compile(r"^Hint\s*\(([^)]*)\):")
    problems: list[str] = []
    labs = [lab for lab in load_labs() if lab.runnable]
    assert labs
    for lab in labs:
        paths = sorted(lab.checkpoint_dir.rglob("test_*.py"))
        assert paths, f"lab {lab.name} has no checkpoint files in {lab.checkpoint_dir}"
        for path in paths:
            where = path.relative_to(repo_root())
            tree = ast.parse(path.read_text())
            nodes = [*tree.body]
            nodes += [n for c in tree.body if isinstance(c, ast.ClassDef) and c.name.startswith("Test") for n in c.body]
            for node in nodes:
                if not (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")):
                    continue
                name = f"{where}::{node.name}"
                found = hints.from_doc(ast.get_docstring(node))
                if not found:
                    problems.append(f"{name}: no hint")
                    continue
                labels = [m.group(1).strip() for h in found if (m := labelled.match(h))]
                if not labels:
                    problems.append(f"{name}: no hint names a book section, as in `Hint (1.2): ...`")
                    continue
                for label in labels:
                    named = [s.strip() for s in label.split(",")]
                    if not lab.sections:
                        if not label:
                            problems.append(f"{name}: `Hint ():` names nothing")
                        continue
                    wrong = [s for s in named if not any(s == k or s.startswith(f"{k}.") for k in lab.sections)]
                    if wrong:
                        problems.append(
                            f"{name}: `Hint ({label}):` names {', '.join(map(repr, wrong))}, not one of "
                            f"lab {lab.name}'s sections {', '.join(lab.sections)} (or a subsection of one)"
                        )
    assert not problems, f"{len(problems)} checkpoint hint(s) to fix:\n" + "\n".join(problems)


def test_manifest_placeholders_must_match(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "components" / "x" / "deploy").mkdir(parents=True)
    (tmp_path / "components" / "x" / "deploy" / "m.yaml").write_text("image: ${IMAGE}\nn: $COUNT\ncost: $$5\n")
    monkeypatch.setattr(manifests, "component_dir", lambda name: tmp_path / "components" / name)
    assert manifests.render("x", "m.yaml", IMAGE="i", COUNT="2") == "image: i\nn: 2\ncost: $5\n"
    with pytest.raises(ValueError, match=r"missing values \['COUNT'\], unused values \['EXTRA'\]"):
        manifests.render("x", "m.yaml", IMAGE="i", EXTRA="e")


def test_the_cni_agent_manifest_renders() -> None:
    text = manifests.render("cni", "agent.yaml", IMAGE="img", CLUSTER_CIDR="10.244.0.0/16", IMPL_KEY="reference")
    assert "image: img" in text and "${" not in text


def test_payload_is_one_request() -> None:
    sa = objects.service_account("a", "ns")
    rb = objects.role_binding("b", "ns", "r", [objects.subject("Group", "g")])
    payload = json.loads(kube._payload((sa, rb)))
    assert payload["kind"] == "List" and [i["kind"] for i in payload["items"]] == ["ServiceAccount", "RoleBinding"]
    assert rb["subjects"] == [{"kind": "Group", "name": "g", "apiGroup": "rbac.authorization.k8s.io"}]
    assert objects.subject("ServiceAccount", "s", "ns") == {"kind": "ServiceAccount", "name": "s", "namespace": "ns"}


def test_lab_table_links_are_relative_to_each_page() -> None:
    labs = load_labs()
    counts = {lab.name: 1 for lab in labs}
    readme = tables.table(repo_root() / "README.md", labs, counts)
    docs = tables.table(repo_root() / "docs" / "index.md", labs, counts)
    assert "[cni](labs/cni/README.md)" in readme and "[cni](../labs/cni/README.md)" in docs
    planned = labs[0].model_copy(update={"status": Status.PLANNED, "issue": 99, "note": "half way"})
    assert "planned (issue 99; half way)" in tables.table(repo_root() / "README.md", [planned], {planned.name: 0})
    with pytest.raises(ValueError, match="markers"):
        tables.render_page("no markers", Path("x.md"), labs, counts)


def test_the_chinese_table_speaks_chinese_and_links_the_chinese_guides(tmp_path: Path) -> None:
    labs = load_labs()
    counts = {lab.name: 2 for lab in labs}
    zh = tables.table(repo_root() / "README.zh.md", labs, counts, language="zh")
    assert zh.splitlines()[0] == "| 章 | 书中主题 | 小节 | 实验 | 会话 | 状态 |"
    cni = next(line for line in zh.splitlines() if "`nox -s lab-cni`" in line)
    assert "CNI：网络插件" in cni and "完成（2 个检查点；`--impl`：exec-plugin）" in cni
    guide = "labs/cni/README.zh.md" if (repo_root() / "labs/cni/README.zh.md").is_file() else "labs/cni/README.md"
    assert f"[cni]({guide})" in cni
    planned = labs[0].model_copy(update={"status": Status.PLANNED, "issue": 99})
    assert "计划中（issue 99）" in tables.table(repo_root() / "README.zh.md", [planned], {planned.name: 0}, "zh")


def test_every_lab_says_its_topic_in_chinese() -> None:
    assert [lab.name for lab in load_labs() if lab.zh is None] == []


def test_committed_tables_are_current() -> None:
    assert tables.stale_pages(write=False) == []


def test_eventually_reports_the_last_observation() -> None:
    calls = iter([0, 0, 3])
    assert eventually(lambda: next(calls), timeout=2, interval=0.01) == 3

    def never() -> bool:
        raise AssertionError("still 2 pods")

    with pytest.raises(AssertionError, match="still 2 pods"):
        eventually(never, timeout=0.05, interval=0.01, what="pods gone")


def test_static_pod_flags_are_set_in_place_or_appended() -> None:
    from kubelab_labkit import static_pods

    command = ["kube-apiserver", "--enable-admission-plugins=NodeRestriction", "--v=1"]
    assert static_pods.flag_value(command, "enable-admission-plugins") == "NodeRestriction"
    static_pods.set_flag(command, "enable-admission-plugins", "NodeRestriction,KubelabOwner")
    static_pods.set_flag(command, "audit-log-path", "-")
    assert command == [
        "kube-apiserver", "--enable-admission-plugins=NodeRestriction,KubelabOwner", "--v=1", "--audit-log-path=-",
    ]  # fmt: skip
    assert static_pods.flag_value(command, "profiling") is None
    doc = {"metadata": {"name": "kube-apiserver"}, "spec": {"containers": [{"name": "kube-apiserver"}]}}
    assert static_pods.container(doc, "kube-apiserver") is doc["spec"]["containers"][0]
    with pytest.raises(AssertionError, match="no container 'etcd'"):
        static_pods.container(doc, "etcd")
